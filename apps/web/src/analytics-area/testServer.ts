// issue 17: a fake API at the HTTP boundary for the analytics page's jsdom tests: `analytics.*`
// and the journey's name answered from memory; every call recorded.
import { stubTrpc, type Handlers } from "../test/trpcStub.ts";
import { marketer } from "../test/users.ts";
import type { DayFigures, Experiment, StepsAnswer } from "./contract.ts";

const step = (
  stepId: string,
  name: string,
  kind: string,
  n: Partial<
    Record<
      | "entered"
      | "waitingNow"
      | "movedIn"
      | "movedOut"
      | "sent"
      | "failed"
      | "converted"
      | "delivered"
      | "opened"
      | "uniqueOpens"
      | "clicked"
      | "uniqueClicks"
      | "conversions"
      | "revenue"
      | "revenuePerRecipient",
      number
    >
  >,
) => ({
  stepId,
  name,
  kind,
  type: "",
  entered: 0,
  waitingNow: 0,
  movedIn: 0,
  movedOut: 0,
  sent: 0,
  failed: 0,
  converted: 0,
  delivered: 0,
  opened: 0,
  uniqueOpens: 0,
  clicked: 0,
  uniqueClicks: 0,
  conversions: 0,
  revenue: 0,
  revenuePerRecipient: 0,
  variants: [],
  ...n,
});

export const stepsAnswer: StepsAnswer = {
  versions: [
    {
      versionId: "v2",
      version: 2,
      status: "LIVE",
      publishedAt: "2026-11-20T10:00:00.000Z",
      steps: [
        step("t", "Placed an order", "When an event happens", { entered: 40 }),
        step("ab", "Thank-you test", "Random split", { entered: 40 }),
        step("mail", "Thank-you email", "Send email", {
          entered: 40,
          sent: 38,
          failed: 2,
          converted: 10,
        }),
        step("wait", "Wait", "Wait", { entered: 38, waitingNow: 12 }),
      ],
    },
    {
      versionId: "v1",
      version: 1,
      status: "SUPERSEDED",
      publishedAt: "2026-11-01T10:00:00.000Z",
      steps: [
        step("t", "Placed an order", "When an event happens", { entered: 60 }),
        step("mail", "Send email", "Send email", {
          entered: 60,
          sent: 60,
          converted: 5,
          movedOut: 4,
        }),
      ],
    },
  ],
  all: [
    step("t", "Placed an order", "When an event happens", { entered: 100 }),
    step("ab", "Thank-you test", "Random split", { entered: 40 }),
    step("mail", "Thank-you email", "Send email", {
      entered: 100,
      sent: 98,
      failed: 2,
      converted: 15,
      delivered: 98,
      opened: 70,
      uniqueOpens: 49,
      clicked: 30,
      uniqueClicks: 20,
      conversions: 12,
      revenue: 540,
      revenuePerRecipient: 5.4,
    }),
    step("wait", "Wait", "Wait", { entered: 38, waitingNow: 12 }),
  ],
  currency: "EUR",
  rule: "A conversion counts when the customer does the journey's goal within the attribution window.",
};

export function daysOf(from: string, to: string): DayFigures[] {
  const out: DayFigures[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    out.push({
      day: new Date(t).toISOString().slice(0, 10),
      entries: 2,
      sends: 3,
      conversions: 1,
      revenue: 10,
    });
  return out;
}

const arm = (
  id: string,
  label: string,
  recipients: number,
  conversions: number,
  extra: Partial<Experiment["report"]["arms"][number]> = {},
) => ({
  id,
  label,
  recipients,
  conversions,
  conversionRate: conversions / recipients,
  conversionInterval: { low: 0.05, high: 0.4 },
  revenuePerRecipient: 4.5,
  uplift: null,
  adjustedPValue: null,
  chanceToBeBest: 0.5,
  ...extra,
});

export const experiments: Experiment[] = [
  {
    versionId: "v2",
    version: 2,
    stepId: "ab",
    report: {
      baselineId: "holdout",
      arms: [
        arm("a", "Plain", 16, 4, { uplift: 0.25, chanceToBeBest: 0.61 }),
        arm("holdout", "Holdout", 20, 4, { chanceToBeBest: 0.39 }),
      ],
      sampleRatioPValue: 0.4,
      plannedPerArm: 6_000,
      verdict: { kind: "collecting", neededPerArm: 6_000, smallestArm: 16 },
      summary:
        "Collecting: the smallest variant has 16 of 6,000 recipients. No verdict before then — looking early makes false winners likely. Fixed horizon: 6,000 recipients per variant.",
    },
  },
];

/** Stubs `fetch`; `extra` replaces or adds handlers. A thrown Error answers BAD_REQUEST. */
export function fakeAnalyticsServer(extra: Record<string, (input: unknown) => unknown> = {}) {
  const handlers: Handlers = {
    "auth.me": () => marketer,
    "journeys.get": () => ({ id: "j1", name: "Post-purchase" }),
    "analytics.steps": () => stepsAnswer,
    "analytics.daily": (input) => {
      const { from, to } = input as { from: string; to: string };
      return daysOf(from, to);
    },
    "analytics.experiments": () => experiments,
    ...extra,
  };
  const calls = stubTrpc(handlers);
  return { calls, callsTo: (path: string) => calls.filter((c) => c.path === path) };
}
