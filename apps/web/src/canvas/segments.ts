// issue 16: the workspace's saved segments and lifecycle stages in the journey editor — for the
// segment trigger's picker, the splits' "is in segment" / "lifecycle stage is" conditions and the
// node summaries (names, never ids). Loaded once per editor beside the catalogue (`segments.list`,
// with each segment's size) and kept in a small store the summaries read.
// The constants come from ./constants.ts, not @postpath/journey: the editor loads this module
// before the journey language (issue 18 item 5).
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { formatCount } from "../format.ts";
import { useTRPC } from "../trpc.ts";
import { asConfig, type Config } from "./config.ts";
import {
  LIFECYCLE_OPS,
  LIFECYCLE_STAGE_NAMES,
  LIFECYCLE_STAGE_PATH,
  LIFECYCLE_STAGES,
  SEGMENT_OPS,
  SEGMENTS_PATH,
  type LifecycleStage,
} from "./constants.ts";
import { segmentName, useSegmentDirectory, type SegmentOption } from "./segmentDirectory.ts";

export { segmentName, useSegmentDirectory, type SegmentOption };

/** Loads the workspace's segments into the directory (once per editor; a minute fresh). */
export function useWorkspaceSegments(): void {
  const trpc = useTRPC();
  const { data } = useQuery({ ...trpc.segments.list.queryOptions(), staleTime: 60_000 });
  useEffect(() => {
    useSegmentDirectory.setState({
      segments: data?.map((s) => ({
        id: s.id,
        name: s.name,
        kind: s.kind,
        stage: s.stage,
        members: s.members,
      })),
    });
  }, [data]);
}

export const stageName = (stage: unknown): string =>
  typeof stage === "string" && stage in LIFECYCLE_STAGE_NAMES
    ? LIFECYCLE_STAGE_NAMES[stage as LifecycleStage]
    : String(stage);

/** "VIP · 1,204 customers" — what the picker lists. */
export function segmentLabel(s: SegmentOption): string {
  const name = s.kind === "lifecycle" ? `Lifecycle stage: ${stageName(s.stage)}` : s.name;
  return `${name} · ${formatCount(s.members)} ${s.members === 1 ? "customer" : "customers"}`;
}

/** The comparisons offered for a membership condition, in words. */
export const SEGMENT_OP_WORDS: Readonly<Record<(typeof SEGMENT_OPS)[number], string>> = {
  contains: "is in",
  notContains: "is not in",
};
export const STAGE_OP_WORDS: Readonly<Record<(typeof LIFECYCLE_OPS)[number], string>> = {
  eq: "is",
  neq: "is not",
  in: "is one of",
  notIn: "is none of",
};

/** "is in segment "VIP"", "lifecycle stage is At risk"; undefined for other conditions. */
export function membershipText(condition: Config): string | undefined {
  const { property, op, value } = condition;
  if (property === SEGMENTS_PATH) {
    const words = SEGMENT_OP_WORDS[op as keyof typeof SEGMENT_OP_WORDS] ?? String(op);
    const name = segmentName(value);
    return name ? `${words} segment "${name}"` : `${words} a saved segment`;
  }
  if (property === LIFECYCLE_STAGE_PATH) {
    const words = STAGE_OP_WORDS[op as keyof typeof STAGE_OP_WORDS] ?? String(op);
    const stages = Array.isArray(value) ? value.map(stageName).join(", ") : stageName(value);
    return `lifecycle stage ${words} ${stages}`;
  }
  return undefined;
}

/**
 * A condition whose property just became (or stopped being) a membership field gets a comparison
 * that works for it and loses a value that does not: "is in", no segment chosen yet.
 */
export function fitCondition(condition: unknown): unknown {
  const c = asConfig(condition);
  if (c.property === SEGMENTS_PATH && !(SEGMENT_OPS as readonly unknown[]).includes(c.op)) {
    const { value: _value, ...rest } = c;
    return { ...rest, op: "contains" };
  }
  if (c.property === LIFECYCLE_STAGE_PATH) {
    if (!(LIFECYCLE_OPS as readonly unknown[]).includes(c.op)) {
      const { value: _value, ...rest } = c;
      return { ...rest, op: "eq" };
    }
    // One stage or several, as the comparison wants.
    const many = c.op === "in" || c.op === "notIn";
    if (many && typeof c.value === "string") return { ...c, value: [c.value] };
    if (!many && Array.isArray(c.value)) {
      const { value, ...rest } = c;
      const first: unknown = (value as unknown[])[0];
      return first === undefined ? rest : { ...rest, value: first };
    }
  }
  return condition;
}

export { LIFECYCLE_STAGES, LIFECYCLE_STAGE_PATH, SEGMENTS_PATH };
