// A compact way to write journeys as code (tests, the template gallery, fixtures in other packages):
// list the steps with their `next` targets; ids, edges and positions are derived.
import { DEFAULT_BRANCH, JourneyDraft, SCHEMA_VERSION, type StepType } from "./schema.ts";
import type { JourneySettingsInput } from "./settings.ts";

export type StepSpec = {
  id: string;
  type: StepType;
  data?: Record<string, unknown>;
  /** Target step id for "next", or targets by branch. */
  next?: string | Readonly<Record<string, string>>;
};

/** Builds a draft (not validated: it may be incomplete, just like a canvas draft). */
export function draftFromSteps(
  steps: readonly StepSpec[],
  settings: JourneySettingsInput = {},
): JourneyDraft {
  const edges: JourneyDraft["edges"] = [];
  for (const s of steps) {
    const next = typeof s.next === "string" ? { [DEFAULT_BRANCH]: s.next } : (s.next ?? {});
    for (const [branch, target] of Object.entries(next)) {
      edges.push({
        id: `${s.id}:${branch}->${target}`,
        source: s.id,
        sourceHandle: branch === DEFAULT_BRANCH ? null : branch,
        target,
      });
    }
  }
  const positions = layout(steps, edges);
  return JourneyDraft.parse({
    schemaVersion: SCHEMA_VERSION,
    settings,
    nodes: steps.map((s) => ({
      id: s.id,
      type: s.type,
      position: positions.get(s.id) ?? { x: 0, y: 0 },
      data: s.data ?? {},
    })),
    edges,
  });
}

const COLUMN = 300;
const ROW = 160;

/** Top-down layered layout: rows by distance from the entry points, branches side by side. */
function layout(
  steps: readonly StepSpec[],
  edges: JourneyDraft["edges"],
): Map<string, { x: number; y: number }> {
  const depth = new Map<string, number>();
  const hasIncoming = new Set(edges.map((e) => e.target));
  const queue = steps.filter((s) => !hasIncoming.has(s.id)).map((s) => s.id);
  for (const id of queue) depth.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i] as string;
    for (const e of edges) {
      if (e.source !== id || depth.has(e.target)) continue;
      depth.set(e.target, (depth.get(id) ?? 0) + 1);
      queue.push(e.target);
    }
  }
  const rows = new Map<number, string[]>();
  for (const s of steps) {
    const d = depth.get(s.id) ?? 0;
    rows.set(d, [...(rows.get(d) ?? []), s.id]);
  }
  const positions = new Map<string, { x: number; y: number }>();
  for (const [d, ids] of rows) {
    ids.forEach((id, i) =>
      positions.set(id, { x: (i - (ids.length - 1) / 2) * COLUMN, y: d * ROW }),
    );
  }
  return positions;
}
