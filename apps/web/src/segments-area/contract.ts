// issue 16: the shapes the Segments area reads from the API (`segments.*`).
import type { LifecycleSettings, LifecycleStage, SegmentDefinition } from "@postpath/journey";

export interface SegmentRow {
  id: string;
  name: string;
  description: string;
  kind: "custom" | "lifecycle";
  stage: string | null;
  members: number;
  rules: string[];
  match: "all" | "any";
  updatedAt: string;
}

export interface SegmentDetail {
  id: string;
  name: string;
  description: string;
  kind: "custom" | "lifecycle";
  stage: string | null;
  definition: SegmentDefinition | null;
  rules: string[];
  members: number;
  usedBy: string[];
  updatedAt: string;
}

export interface SegmentPreview {
  count: number;
  sample: { id: string; externalId: string; email: string | null }[];
  /** Counting everyone took too long: the size was estimated from customers drawn at random. */
  estimate?: { sampled: number; customers: number; low: number; high: number };
}

export interface LifecycleView {
  settings: LifecycleSettings;
  enabled: boolean;
  stages: { stage: LifecycleStage; rule: string; segmentId: string | null; members: number }[];
}
