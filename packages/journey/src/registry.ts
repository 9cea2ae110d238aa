// Every step type's module, by type. Adding a step type = one module + one line here.
import type { StepType } from "./schema.ts";
import actionAttribute from "./steps/action-attribute.ts";
import actionCoupon from "./steps/action-coupon.ts";
import actionEmail from "./steps/action-email.ts";
import actionNotify from "./steps/action-notify.ts";
import actionPurl from "./steps/action-purl.ts";
import actionPush from "./steps/action-push.ts";
import actionSms from "./steps/action-sms.ts";
import actionTag from "./steps/action-tag.ts";
import actionWebhook from "./steps/action-webhook.ts";
import flowExit from "./steps/flow-exit.ts";
import flowGoal from "./steps/flow-goal.ts";
import type { AnyStepModule } from "./steps/module.ts";
import splitChannel from "./steps/split-channel.ts";
import splitCondition from "./steps/split-condition.ts";
import splitMulti from "./steps/split-multi.ts";
import splitRandom from "./steps/split-random.ts";
import triggerDate from "./steps/trigger-date.ts";
import triggerEvent from "./steps/trigger-event.ts";
import triggerForm from "./steps/trigger-form.ts";
import triggerManual from "./steps/trigger-manual.ts";
import triggerSegment from "./steps/trigger-segment.ts";
import waitDateProperty from "./steps/wait-date-property.ts";
import waitDuration from "./steps/wait-duration.ts";
import waitEvent from "./steps/wait-event.ts";
import waitTimeOfDay from "./steps/wait-time-of-day.ts";
import waitUntil from "./steps/wait-until.ts";

export const registry: Readonly<Record<StepType, AnyStepModule>> = {
  "trigger.event": triggerEvent,
  "trigger.segment": triggerSegment,
  "trigger.date": triggerDate,
  "trigger.manual": triggerManual,
  "trigger.form": triggerForm,
  "wait.duration": waitDuration,
  "wait.until": waitUntil,
  "wait.timeOfDay": waitTimeOfDay,
  "wait.dateProperty": waitDateProperty,
  "wait.event": waitEvent,
  "split.condition": splitCondition,
  "split.multi": splitMulti,
  "split.random": splitRandom,
  "split.channel": splitChannel,
  "action.email": actionEmail,
  "action.sms": actionSms,
  "action.push": actionPush,
  "action.webhook": actionWebhook,
  "action.notify": actionNotify,
  "action.attribute": actionAttribute,
  "action.tag": actionTag,
  "action.coupon": actionCoupon,
  "action.purl": actionPurl,
  "flow.goal": flowGoal,
  "flow.exit": flowExit,
};

export function stepModule(type: StepType): AnyStepModule {
  return registry[type];
}

/** Outgoing branches of a node as the canvas should draw its handles (falls back to the defaults
 * when the data does not parse yet). */
export function branchesFor(
  type: StepType,
  data: unknown,
): { required: readonly string[]; optional: readonly string[] } {
  const m = registry[type];
  const parsed = m.schema.safeParse(data);
  for (const candidate of [parsed.success ? parsed.data : data, m.defaults]) {
    try {
      const b = m.branches(candidate);
      return { required: b.required, optional: b.optional ?? [] };
    } catch {
      // Incomplete data: try the defaults.
    }
  }
  return { required: [], optional: [] };
}

/** The catalogue the canvas palette shows. */
export const stepCatalog: readonly {
  type: StepType;
  family: AnyStepModule["family"];
  label: string;
  defaults: Record<string, unknown>;
}[] = Object.values(registry).map((m) => ({
  type: m.type,
  family: m.family,
  label: m.label,
  defaults: m.defaults,
}));
