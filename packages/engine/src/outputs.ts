import { createHash } from "node:crypto";
import { ProviderError } from "@postpath/channels";
import type { Prisma } from "@postpath/db";
import { fillCouponPattern } from "@postpath/journey";
import type { EngineContext } from "./context.ts";

export interface OutputMessage {
  messageId: string;
  idempotencyKey: string;
  workspaceId: string;
  runId: string;
  customerId: string | null;
  /** The journey step that asked for the output (a PURL keeps it for the step's funnel). */
  stepId?: string;
}

/** A PURL token: derived from the outbox key, so a retried step makes the same URL. */
export function purlToken(idempotencyKey: string): string {
  return createHash("sha256").update(`purl:${idempotencyKey}`).digest("base64url").slice(0, 22);
}

/**
 * Outputs the engine makes itself for coupon and PURL steps, once per outbox message (so once per
 * run step): a pattern coupon is derived from the step's seed; a pool coupon is claimed by the
 * message (unique `messageId` on the code, `FOR UPDATE SKIP LOCKED` so concurrent claims never
 * take the same code, and a retry finds the code it claimed); a PURL row is keyed by the message.
 */
export async function makeOutput(
  ctx: EngineContext,
  channel: "coupon" | "purl",
  payload: Record<string, unknown>,
  msg: OutputMessage,
): Promise<Record<string, unknown>> {
  if (channel === "coupon") return issueCoupon(ctx, payload, msg);
  return createPurl(ctx, payload, msg);
}

async function issueCoupon(
  ctx: EngineContext,
  payload: Record<string, unknown>,
  msg: OutputMessage,
): Promise<Record<string, unknown>> {
  const source = payload.source as { kind?: string; pattern?: string; pool?: string } | undefined;
  const value = (payload.value ?? {}) as Record<string, unknown>;
  const expiresAt =
    typeof payload.expiresAt === "number" ? new Date(payload.expiresAt).toISOString() : null;
  const base = {
    value: value.amount,
    valueKind: value.kind,
    currency: value.currency ?? null,
    expiresAt,
  };
  if (
    source?.kind === "pattern" &&
    typeof source.pattern === "string" &&
    typeof payload.seed === "string"
  ) {
    return { code: fillCouponPattern(source.pattern, payload.seed), ...base };
  }
  if (source?.kind === "pool" && typeof source.pool === "string") {
    const { prisma } = ctx.db;
    const pool = await prisma.couponPool.findFirst({
      where: { workspaceId: msg.workspaceId, OR: [{ id: source.pool }, { name: source.pool }] },
      select: { id: true, name: true },
    });
    if (!pool)
      throw new ProviderError(`coupon pool "${source.pool}" does not exist in this workspace`, {
        retryable: false,
      });
    const mine = await prisma.couponCode.findUnique({
      where: { messageId: msg.messageId },
      select: { code: true },
    });
    if (mine) return { code: mine.code, pool: pool.name, ...base };
    const claimed = await prisma.$queryRaw<{ code: string }[]>`
      UPDATE "CouponCode" SET "messageId" = ${msg.messageId}, "claimedAt" = now()
      WHERE id = (SELECT id FROM "CouponCode" WHERE "poolId" = ${pool.id} AND "messageId" IS NULL LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING code`;
    const code = claimed[0]?.code;
    if (!code)
      throw new ProviderError(`coupon pool "${pool.name}" has no codes left`, { retryable: false });
    return { code, pool: pool.name, ...base };
  }
  throw new ProviderError("coupon step has no usable source (pool or pattern)", {
    retryable: false,
  });
}

async function createPurl(
  ctx: EngineContext,
  payload: Record<string, unknown>,
  msg: OutputMessage,
): Promise<Record<string, unknown>> {
  const page = typeof payload.page === "string" ? payload.page : "";
  if (!page) throw new ProviderError("PURL step has no landing page", { retryable: false });
  const token = purlToken(msg.idempotencyKey);
  const params = (payload.params ?? {}) as Prisma.InputJsonValue;
  await ctx.db.prisma.purl.upsert({
    where: { messageId: msg.messageId },
    create: {
      token,
      workspaceId: msg.workspaceId,
      runId: msg.runId,
      customerId: msg.customerId ?? "",
      messageId: msg.messageId,
      stepId: msg.stepId ?? null,
      page,
      params,
      expiresAt: typeof payload.expiresAt === "number" ? new Date(payload.expiresAt) : null,
    },
    update: {},
  });
  const url = `${ctx.publicUrl.replace(/\/$/, "")}/p/${token}`;
  return { url, token, page, ...(payload.qr === false ? {} : { qrUrl: `${url}/qr.png` }) };
}
