// Split: route by the customer's preferred channel when they can be reached on it, else the first
// reachable channel in the configured order, else "none".
import { z } from "zod";
import { MessageChannel } from "../settings.ts";
import type { CustomerSnapshot } from "../state.ts";
import { defineStep } from "./module.ts";

export const SplitChannelConfig = z.object({
  /** Channels in fallback order; each is a branch, plus "none". */
  channels: z
    .array(MessageChannel)
    .min(1, { error: "Choose at least one channel." })
    .default(["email", "sms", "push"]),
  /** Attribute holding the stated preference ("email" | "sms" | "push"). */
  preferenceAttribute: z.string().trim().min(1).default("preferred_channel"),
});
export type SplitChannelConfig = z.infer<typeof SplitChannelConfig>;

/**
 * Reachability: email needs an address, SMS a phone number, push a `push_token` attribute; an
 * `<channel>_opt_out: true` attribute makes the channel unreachable.
 */
export function reachable(customer: CustomerSnapshot, channel: MessageChannel): boolean {
  if (customer.attributes[`${channel}_opt_out`] === true) return false;
  switch (channel) {
    case "email":
      return typeof customer.email === "string" && customer.email.includes("@");
    case "sms":
      return typeof customer.phone === "string" && customer.phone.trim() !== "";
    case "push": {
      const token = customer.attributes["push_token"];
      return typeof token === "string" && token !== "";
    }
    default: {
      const never: never = channel;
      return never;
    }
  }
}

export default defineStep<SplitChannelConfig>({
  type: "split.channel",
  family: "split",
  label: "Channel preference split",
  schema: SplitChannelConfig,
  defaults: { channels: ["email", "sms", "push"], preferenceAttribute: "preferred_channel" },
  branches: (c) => ({ required: [...new Set(c.channels), "none"] }),
  enter: (env) => {
    const { channels, preferenceAttribute } = env.config;
    const customer = env.state.customer;
    const preference = customer.attributes[preferenceAttribute];
    const reach = Object.fromEntries(channels.map((ch) => [ch, reachable(customer, ch)]));
    const preferred = channels.find((ch) => ch === preference && reach[ch]);
    const fallback = channels.find((ch) => reach[ch]);
    const branch = preferred ?? fallback ?? "none";
    const why = preferred
      ? "preference"
      : fallback
        ? "first reachable channel"
        : "no reachable channel";
    return {
      kind: "go",
      branch,
      decision: "split.branch",
      detail: { preference: preference ?? null, reachable: reach, why },
    };
  },
});
