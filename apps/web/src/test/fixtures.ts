import { JourneyDraft } from "@postpath/journey";
import type { JourneyListItem } from "../api/contract.ts";

/** Shaped like the seeded demo journey "Thank-you after purchase", plus a split. */
export const thankYouDraft: JourneyDraft = JourneyDraft.parse({
  schemaVersion: 1,
  settings: {},
  nodes: [
    {
      id: "trigger",
      type: "trigger.event",
      position: { x: 0, y: 0 },
      data: { event: "purchase", filters: [] },
    },
    {
      id: "wait",
      type: "wait.duration",
      position: { x: 0, y: 150 },
      data: { amount: 30, unit: "seconds" },
    },
    {
      id: "big-order",
      type: "split.condition",
      position: { x: 0, y: 300 },
      data: { conditions: [{ property: "event.total", op: "gt", value: 100 }], match: "all" },
    },
    {
      id: "email",
      type: "action.email",
      position: { x: -150, y: 450 },
      data: { subject: "Thanks {{ first_name }}", body: "We hope you love it." },
    },
    { id: "exit", type: "flow.exit", position: { x: 150, y: 450 }, data: {} },
  ],
  edges: [
    { id: "e1", source: "trigger", target: "wait" },
    { id: "e2", source: "wait", sourceHandle: null, target: "big-order" },
    { id: "e3", source: "big-order", sourceHandle: "yes", target: "email" },
    { id: "e4", source: "big-order", sourceHandle: "no", target: "exit" },
  ],
});

export const journeyRows: JourneyListItem[] = [
  {
    id: "j1",
    name: "Thank-you after purchase",
    status: "LIVE",
    liveVersion: 3,
    updatedAt: "2025-11-20T10:15:00.000Z",
    entered: 1200,
    converted: 300,
  },
  {
    id: "j2",
    name: "Win-back after 90 days",
    status: "DRAFT",
    liveVersion: null,
    updatedAt: "2025-11-22T08:00:00.000Z",
    entered: 0,
    converted: 0,
  },
];
