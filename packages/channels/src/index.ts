// @postpath/channels — message providers behind one interface, plus templating.
export {
  CHANNELS,
  DEFAULT_TIMEOUT_MS,
  ProviderError,
  assertIdempotencyKey,
  isProviderError,
} from "./types.ts";
export type {
  Channel,
  Provider,
  ProviderErrorOptions,
  SendOptions,
  SendRequest,
  SendResult,
  VerifyResult,
} from "./types.ts";

export { ProviderConfigError, configSchemas, createProvider, isChannel } from "./registry.ts";
export {
  OutboundRefusedError,
  PUBLIC_ONLY,
  allowListProblem,
  classifyAddress,
} from "./outbound.ts";
export type { AddressKind, OutboundPolicy } from "./outbound.ts";
export type { ChannelRequests, ProviderDependencies, ProviderFor } from "./registry.ts";

export {
  EmailConfig,
  IDEMPOTENCY_HEADER,
  LogEmailConfig,
  SmtpEmailConfig,
  createEmailProvider,
  createLogEmailProvider,
  messageIdForKey,
  UNSUBSCRIBE_URL_PLACEHOLDER, // issue 16
  withUnsubscribe, // issue 16
} from "./providers/email.ts";
export type {
  EmailRequest,
  EmailResponse,
  EmailUnsubscribe, // issue 16
  LogEmailConfigInput,
  SmtpEmailConfigInput,
} from "./providers/email.ts";
export { SmsConfig, createSmsProvider } from "./providers/sms.ts";
export type { SmsConfigInput, SmsRequest, SmsResponse } from "./providers/sms.ts";
export { PushConfig, createPushProvider } from "./providers/push.ts";
export type { PushConfigInput, PushRequest } from "./providers/push.ts";
export { WebhookConfig, WebhookMethod, createWebhookProvider } from "./providers/webhook.ts";
export type { WebhookConfigInput, WebhookRequest } from "./providers/webhook.ts";
export { NotifyConfig, createNotifyProvider } from "./providers/notify.ts";
export type { NotifyConfigInput, NotifyDependencies, NotifyRequest } from "./providers/notify.ts";

export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  WEBHOOK_SECRET_PREFIX,
  signWebhook,
  verifyWebhookSignature,
  webhookHeaders,
} from "./webhook-signature.ts";
export type { HeaderSource, SignWebhookInput, VerifyWebhookInput } from "./webhook-signature.ts";

export {
  TemplateError,
  createTemplateEngine,
  defaultTemplateEngine,
  renderTemplate,
} from "./templating/liquid.ts";
export type {
  Escape,
  RenderOptions,
  TemplateEngine,
  TemplateEngineOptions,
} from "./templating/liquid.ts";
export {
  emailContent,
  htmlToText,
  messageTemplateVariables,
  mjmlToHtml,
  renderEmail,
  renderMessage,
  validateMessageTemplate,
  withPreheader,
} from "./templating/render.ts";
export type {
  EmailContentInput,
  EmailFormat,
  EmailTemplate,
  MessageTemplate,
  NotifyTemplate,
  PushTemplate,
  RenderedByChannel,
  RenderedEmail,
  RenderedMessage,
  RenderedNotify,
  RenderedPush,
  RenderedSms,
  RenderedWebhook,
  SmsTemplate,
  TemplateIssue,
  TemplateVars,
  WebhookTemplate,
} from "./templating/render.ts";
export { createQrCode, qrCodeDataUrl } from "./templating/qrcode.ts";
export type { QrCode, QrCodeOptions } from "./templating/qrcode.ts";
