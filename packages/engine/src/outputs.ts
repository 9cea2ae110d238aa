import { ProviderError } from "@postpath/channels";
import { fillCouponPattern } from "@postpath/journey";
import type { EngineContext } from "./context.ts";

/**
 * Outputs the engine makes itself for coupon and PURL steps. Pattern coupons are derived from the
 * effect's seed (stable per run step, so a retry yields the same code).
 * Coupon pools and PURL landing pages need their own tables and pages (engine issue); until then
 * these fail without retry so the step's on-error policy applies and the trace says why.
 */
export function makeOutput(
  _ctx: EngineContext,
  channel: "coupon" | "purl",
  payload: Record<string, unknown>,
  _idempotencyKey: string,
  _workspaceId: string,
): Promise<Record<string, unknown>> {
  if (channel === "coupon") {
    const source = payload.source as { kind?: string; pattern?: string } | undefined;
    const value = (payload.value ?? {}) as Record<string, unknown>;
    if (source?.kind === "pattern" && typeof source.pattern === "string" && typeof payload.seed === "string") {
      const expiresAt = typeof payload.expiresAt === "number" ? new Date(payload.expiresAt).toISOString() : null;
      return Promise.resolve({ code: fillCouponPattern(source.pattern, payload.seed), value: value.amount, valueKind: value.kind, expiresAt });
    }
    return Promise.reject(new ProviderError("coupon pools are not available yet", { retryable: false }));
  }
  return Promise.reject(new ProviderError("personalised URLs are not available yet", { retryable: false }));
}
