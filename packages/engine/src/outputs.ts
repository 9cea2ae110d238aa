import { createHash, randomBytes } from "node:crypto";
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

export interface PurlVisit {
  token: string;
  workspaceId: string;
  runId: string;
  customerId: string;
  stepId: string | null;
  page: string;
  params: Record<string, unknown>;
  url: string;
  /** The published version of the page at the visit (null: not published), read in the same statement. */
  published: { id: string; version: number; document: unknown } | null;
  /** This link's visits so far, this one included. */
  visits: number;
  customer: { externalId: string; attributes: Record<string, unknown> };
}

/**
 * Opening the same link again within this time counts as a visit but writes no new trace line
 * (the trace lists a run's first lines only: reloads must not push the journey's steps out).
 */
export const VISIT_TRACE_GAP_MS = 30 * 60_000;

/**
 * A PURL was opened. One statement counts the visit on the link, stores a PageVisit row (which
 * page version was live), writes "Opened personal page …" to the run's trace (not for a reload
 * within VISIT_TRACE_GAP_MS) and records a `purl_visited` event for the customer (so a
 * wait-for-event, goal or exit criterion can react to it); then the event is queued. Null for
 * unknown or expired tokens and for links whose customer is gone (nothing is counted).
 */
export async function visitPurl(ctx: EngineContext, token: string): Promise<PurlVisit | null> {
  if (token.length > 200) return null;
  const now = new Date(ctx.now());
  const since = new Date(ctx.now() - VISIT_TRACE_GAP_MS);
  const eventId = `ev${randomBytes(12).toString("hex")}`;
  const messageId = `purl-${token}-${ctx.now()}-${randomBytes(4).toString("hex")}`;
  const rows = await ctx.db.prisma.$queryRaw<
    {
      workspaceId: string;
      runId: string;
      customerId: string;
      stepId: string | null;
      page: string;
      params: unknown;
      visits: number;
      pageVersion: number | null;
      pageVersionId: string | null;
      document: unknown;
      externalId: string;
      attributes: unknown;
    }[]
  >`
    WITH prev AS (
      SELECT token, "lastVisitAt" AS last FROM "Purl"
      WHERE token = ${token} AND ("expiresAt" IS NULL OR "expiresAt" >= ${now})
      FOR UPDATE
    ), p AS (
      UPDATE "Purl" u SET visits = u.visits + 1, "lastVisitAt" = ${now}
      FROM prev
      WHERE u.token = prev.token
        AND EXISTS (SELECT 1 FROM "Customer" c WHERE c.id = u."customerId" AND c."workspaceId" = u."workspaceId")
      RETURNING u.*, prev.last
    ), pv AS (
      SELECT p.token, v.version, v.id, v.document FROM p
      LEFT JOIN "Page" pg ON pg."workspaceId" = p."workspaceId" AND pg.slug = p.page
      LEFT JOIN "PageVersion" v ON v."pageId" = pg.id AND v.version = pg."publishedVersion"
    ), visit AS (
      INSERT INTO "PageVisit" ("workspaceId", token, page, "pageVersion", "customerId", "runId", "stepId", at)
      SELECT p."workspaceId", p.token, p.page, pv.version, p."customerId", p."runId", p."stepId", ${now}
      FROM p JOIN pv ON pv.token = p.token
    ), traced AS (
      INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at)
      SELECT p."runId", p."stepId", 'page.visited',
             jsonb_build_object('text', 'Opened personal page ' || p.page, 'page', p.page,
                                'version', pv.version, 'visits', p.visits),
             ${now}
      FROM p JOIN pv ON pv.token = p.token
      WHERE p.last IS NULL OR p.last < ${since}
    ), ev AS (
      INSERT INTO "Event" (id, "workspaceId", "customerId", name, properties, timestamp, "messageId")
      SELECT ${eventId}, p."workspaceId", p."customerId", 'purl_visited',
             jsonb_build_object('page', p.page, 'token', p.token) || COALESCE(p.params, '{}'::jsonb),
             ${now}, ${messageId}
      FROM p
    )
    SELECT p."workspaceId", p."runId", p."customerId", p."stepId", p.page, p.params, p.visits,
           pv.version AS "pageVersion", pv.id AS "pageVersionId", pv.document,
           c."externalId", c.attributes
    FROM p JOIN pv ON pv.token = p.token JOIN "Customer" c ON c.id = p."customerId"`;
  const row = rows[0];
  if (!row) return null;
  await ctx.queues.events.add("event", { eventId }, { jobId: `ev-${eventId}` });
  const params = (row.params ?? {}) as Record<string, unknown>;
  return {
    token,
    workspaceId: row.workspaceId,
    runId: row.runId,
    customerId: row.customerId,
    stepId: row.stepId,
    page: row.page,
    params,
    url: `${ctx.publicUrl.replace(/\/$/, "")}/p/${token}`,
    published:
      row.pageVersion !== null && row.pageVersionId !== null
        ? { id: row.pageVersionId, version: row.pageVersion, document: row.document }
        : null,
    visits: row.visits,
    customer: {
      externalId: row.externalId,
      attributes: (row.attributes ?? {}) as Record<string, unknown>,
    },
  };
}
