// Config pieces shared by the provider schemas.
import { z } from "zod";
import { DEFAULT_TIMEOUT_MS } from "../types.ts";

/** Per-request deadline in milliseconds (default 10 s, at most 2 min). */
export const TimeoutMs = z.number().int().positive().max(120_000).default(DEFAULT_TIMEOUT_MS);

/** An http(s) URL without user:password (fetch refuses those; put credentials in their own field). */
export const HttpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .refine((u) => {
    const parsed = new URL(u);
    return parsed.username === "" && parsed.password === "";
  }, "must not embed credentials (user:password@)");

/** Drops a trailing slash so `${baseUrl}/path` never doubles it. */
export function trimSlash(url: string): string {
  return url.endsWith("/") ? url.slice(0, -1) : url;
}

/** Small helper so request validation reads the same in every provider. */
export function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : null;
}
