// issue 16: the workspace's saved segments, kept in a small store that the step summaries read
// (names, never ids). Apart from segments.ts (which loads it, and holds the pickers' words) so the
// canvas's cards can follow it without importing more than zustand: the segments usually arrive
// after the first draw, and a card must then show the segment's name (issue 18).
import { create } from "zustand";
import type { SegmentRow } from "../segments-area/contract.ts";

export type SegmentOption = Pick<SegmentRow, "id" | "name" | "kind" | "stage" | "members">;

/** The workspace's segments (undefined until they arrive). */
export const useSegmentDirectory = create<{ segments: readonly SegmentOption[] | undefined }>(
  () => ({ segments: undefined }),
);

/** A segment's name for a summary: "(deleted segment)" when the workspace lacks it, undefined
 * while the segments are not loaded. */
export function segmentName(id: unknown): string | undefined {
  const segments = useSegmentDirectory.getState().segments;
  if (!segments) return undefined;
  return segments.find((x) => x.id === id)?.name ?? "(deleted segment)";
}
