// Builds a provider from a stored `{ kind, config }` (config is zod-parsed per kind), so the
// engine never switches on provider kinds itself.
import type { z } from "zod";
import { EmailConfig, createEmailProvider, createLogEmailProvider } from "./providers/email.ts";
import type { EmailRequest } from "./providers/email.ts";
import { NotifyConfig, createNotifyProvider } from "./providers/notify.ts";
import type { NotifyRequest } from "./providers/notify.ts";
import { PushConfig, createPushProvider } from "./providers/push.ts";
import type { PushRequest } from "./providers/push.ts";
import { SmsConfig, createSmsProvider } from "./providers/sms.ts";
import type { SmsRequest } from "./providers/sms.ts";
import { WebhookConfig, createWebhookProvider } from "./providers/webhook.ts";
import type { WebhookRequest } from "./providers/webhook.ts";
import type { Channel, Provider } from "./types.ts";

/** The request type each channel's provider takes. */
export interface ChannelRequests {
  email: EmailRequest;
  sms: SmsRequest;
  push: PushRequest;
  webhook: WebhookRequest;
  notify: NotifyRequest;
}

export type ProviderFor<K extends Channel> = Provider<ChannelRequests[K]>;

/** Config schema per kind; `configSchemas[kind].parse(x)` validates an admin form. */
export const configSchemas = {
  email: EmailConfig,
  sms: SmsConfig,
  push: PushConfig,
  webhook: WebhookConfig,
  notify: NotifyConfig,
} as const satisfies Record<Channel, z.ZodType>;

export class ProviderConfigError extends Error {
  override readonly name = "ProviderConfigError";
  constructor(
    readonly kind: string,
    /** Paths and messages only: never the submitted values (they may be secrets). */
    readonly issues: { path: string; message: string }[],
  ) {
    super(
      `invalid ${kind} provider config: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`,
    );
  }
}

/** Other providers a provider may delegate to (notify → e-mail for `via: "email"`). */
export interface ProviderDependencies {
  email?: Provider<EmailRequest>;
}

const factories: {
  [K in Channel]: (config: unknown, deps: ProviderDependencies) => ProviderFor<K>;
} = {
  email: (config) => {
    const parsed = parse("email", EmailConfig, config);
    return parsed.transport === "log"
      ? createLogEmailProvider(parsed)
      : createEmailProvider(parsed);
  },
  sms: (config) => createSmsProvider(parse("sms", SmsConfig, config)),
  push: (config) => createPushProvider(parse("push", PushConfig, config)),
  webhook: (config) => createWebhookProvider(parse("webhook", WebhookConfig, config)),
  notify: (config, deps) => createNotifyProvider(parse("notify", NotifyConfig, config), deps),
};

/**
 * Builds the provider for `kind` from an untrusted config (e.g. a JSON column).
 * Throws ProviderConfigError for an unknown kind or an invalid config.
 */
export function createProvider<K extends Channel>(
  kind: K,
  config: unknown,
  deps?: ProviderDependencies,
): ProviderFor<K>;
export function createProvider(
  kind: string,
  config: unknown,
  deps?: ProviderDependencies,
): Provider;
export function createProvider(
  kind: string,
  config: unknown,
  deps: ProviderDependencies = {},
): Provider {
  if (!isChannel(kind))
    throw new ProviderConfigError(String(kind), [{ path: "", message: "unknown provider kind" }]);
  return factories[kind](config, deps);
}

export function isChannel(value: unknown): value is Channel {
  return typeof value === "string" && Object.hasOwn(factories, value);
}

function parse<S extends z.ZodType>(kind: Channel, schema: S, config: unknown): z.infer<S> {
  const result = schema.safeParse(config);
  if (result.success) return result.data;
  throw new ProviderConfigError(
    kind,
    result.error.issues.map((issue) => ({
      path: issue.path.map(String).join("."),
      message: issue.message,
    })),
  );
}
