// The shapes the web app reads from the API. tRPC runs without a transformer, so dates arrive as
// ISO strings. `contract-check.ts` proves at compile time that the real router's outputs are
// assignable to these, so a change on the server shows up as a type error here.
import type { JourneyDraft } from "../canvas/draft.ts";

export type Role = "ADMIN" | "MARKETER" | "VIEWER";
export type JourneyStatus = "DRAFT" | "LIVE" | "PAUSED" | "STOPPED" | "ARCHIVED";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface Me extends SessionUser {
  workspace: { id: string; name: string };
}

export interface JourneyListItem {
  id: string;
  name: string;
  status: JourneyStatus;
  liveVersion: number | null;
  updatedAt: string;
  entered: number;
  converted: number;
}

export interface JourneyDetail {
  id: string;
  name: string;
  status: JourneyStatus;
  draft: JourneyDraft;
  draftRevision: number;
  liveVersion: number | null;
  updatedAt: string;
}

/** `journeys.catalog`: what the workspace has observed (absent parts: nothing observed yet). */
export interface WorkspaceCatalog {
  attributes?: string[];
  eventProperties?: Record<string, string[]>;
  customerFields: string[];
  /** The webhook connection's origin: webhook steps may only call paths on it (an error otherwise). */
  webhookOrigin?: string;
  /** Issue 16, for the pickers: per attribute the kinds of value seen and up to 3 examples. */
  attributeDetails?: Record<string, FieldDetail>;
  /** Per event name: how many of the `eventSample` sampled events had it, and its properties. */
  eventDetails?: Record<string, { sampled: number; properties: Record<string, FieldDetail> }>;
  eventSample?: number;
  /** Issue 16: the ids of the workspace's saved segments (a trigger or split naming another warns). */
  segments?: string[];
  /** Issue 16: the landing pages by address (a PURL step naming another, or a draft, warns). */
  pages?: Readonly<Record<string, { name: string; published: boolean }>>;
  /** Issue 16: the coupon pools' names and ids (a coupon step drawing from another warns). */
  couponPools?: readonly string[];
}

/** Kinds of value seen ("string", "number", "boolean", "date", "array", "object", "null"), the
 * most common first, and up to 3 example values as text. */
export interface FieldDetail {
  types: string[];
  examples: string[];
}
