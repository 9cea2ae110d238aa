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
      page,
      params,
      expiresAt: typeof payload.expiresAt === "number" ? new Date(payload.expiresAt) : null,
    },
    update: {},
  });
  const url = `${ctx.publicUrl.replace(/\/$/, "")}/p/${token}`;
  return { url, token, page, ...(payload.qr === false ? {} : { qrUrl: `${url}/qr.png` }) };
}

export interface PurlVisit {
  token: string;
  page: string;
  params: Record<string, unknown>;
  url: string;
  customer: { externalId: string; attributes: Record<string, unknown> };
}

/**
 * A PURL was opened: counts the visit and records a `purl_visited` event for the customer (so a
 * wait-for-event, goal or exit criterion can react to it). Null for unknown or expired tokens.
 */
export async function visitPurl(ctx: EngineContext, token: string): Promise<PurlVisit | null> {
  const { prisma } = ctx.db;
  const p = await prisma.purl.findUnique({ where: { token } });
  if (!p || (p.expiresAt && p.expiresAt.getTime() < ctx.now())) return null;
  const customer = await prisma.customer.findUnique({
    where: { id: p.customerId },
    select: { id: true, externalId: true, attributes: true },
  });
  if (!customer) return null;
  await prisma.purl.update({
    where: { token },
    data: { visits: { increment: 1 }, lastVisitAt: new Date(ctx.now()) },
  });
  const ev = await prisma.event.create({
    data: {
      workspaceId: p.workspaceId,
      customerId: customer.id,
      name: "purl_visited",
      properties: { page: p.page, token, ...(p.params as Record<string, unknown>) },
      timestamp: new Date(ctx.now()),
      messageId: `purl-${token}-${ctx.now()}`,
    },
    select: { id: true },
  });
  await ctx.queues.events.add("event", { eventId: ev.id }, { jobId: `ev-${ev.id}` });
  return {
    token,
    page: p.page,
    params: (p.params ?? {}) as Record<string, unknown>,
    url: `${ctx.publicUrl.replace(/\/$/, "")}/p/${token}`,
    customer: {
      externalId: customer.externalId,
      attributes: (customer.attributes ?? {}) as Record<string, unknown>,
    },
  };
}
