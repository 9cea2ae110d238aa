// Coupon pools (the Coupons area): lists of unique codes a journey's coupon step gives out, one
// per customer — Braze's "promotion code lists", Klaviyo's "uploaded coupon codes". Viewers read
// the pools (codes left and used, which journeys give codes from each); marketers and admins
// create, rename and delete pools and add codes pasted or uploaded (coupons.parse.ts), stored with
// one INSERT … ON CONFLICT DO NOTHING so a code already in the pool is counted, not added twice.
// A coupon step names its pool by name (engine outputs.ts issueCoupon takes a name or an id), so
// a pool a live journey gives codes from cannot be renamed or deleted, and a pool whose codes
// were given out cannot be deleted (its codes are the record of who got which).
import { TRPCError } from "@trpc/server";
import { Prisma } from "@postpath/db";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import type { ApiContext } from "../trpc.ts";
import { marketerProcedure, router, viewerProcedure } from "../trpc.ts";
import { IdText, Text } from "../zod.ts";
import {
  MAX_CODES_PER_UPLOAD,
  MAX_UPLOAD_BYTES,
  parseCouponCodes,
  type InvalidLine,
} from "./coupons.parse.ts";

type Ctx = ApiContext & { user: NonNullable<ApiContext["user"]> };

/** Low stock: fewer codes left than this, or less than LOW_STOCK_SHARE of the pool. */
export const LOW_STOCK_CODES = 100;
export const LOW_STOCK_SHARE = 0.1;
/** At most this many pools are listed (by name); a workspace has a handful. */
export const POOLS_LISTED = 500;

export type Stock = "empty" | "low" | "ok";

export function stockOf(codes: number, left: number): Stock {
  if (left === 0) return "empty";
  return left < LOW_STOCK_CODES || left < codes * LOW_STOCK_SHARE ? "low" : "ok";
}

export interface PoolUse {
  journeyId: string;
  name: string;
  /** Live or paused: its published version gives codes from the pool. Else only its draft does. */
  live: boolean;
}

export interface CouponPoolSummary {
  id: string;
  name: string;
  createdAt: Date;
  /** All codes in the pool. */
  codes: number;
  /** Not given out yet. */
  left: number;
  /** Given to a customer by a coupon step. */
  used: number;
  stock: Stock;
  /** Journeys whose coupon step gives codes from this pool (live first). */
  usedBy: PoolUse[];
}

const Name = Text.trim()
  .min(1, { error: "Give the pool a name." })
  .max(100, { error: "A pool name can be at most 100 characters." });

const NAME_TAKEN = "A pool with this name already exists.";

/** A unique-name violation as the name field's error (the errorFormatter lists it per field). */
function nameTaken(): TRPCError {
  const error = new TRPCError({ code: "CONFLICT", message: `name: ${NAME_TAKEN}` });
  (error as { cause?: unknown }).cause = new z.ZodError([
    { code: "custom", path: ["name"], message: NAME_TAKEN, input: undefined },
  ]);
  return error;
}

function uniqueName(err: unknown): never {
  if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002")
    throw nameTaken();
  throw err;
}

async function poolOr404(ctx: Ctx, id: string) {
  const pool = await ctx.db.prisma.couponPool.findFirst({
    where: { id, workspaceId: ctx.user.workspaceId },
    select: { id: true, name: true, createdAt: true },
  });
  if (!pool)
    throw new TRPCError({ code: "NOT_FOUND", message: "No coupon pool with that id here." });
  return pool;
}

/**
 * The journeys whose coupon steps name a pool (by name or id): live and paused journeys from
 * their published plan, the others (not archived) from their draft. One query; Postgres walks
 * the steps of the workspace's journeys.
 */
async function poolUses(ctx: Ctx): Promise<{ pool: string; use: PoolUse }[]> {
  const rows = await ctx.db.query<{ id: string; name: string; pool: string; live: boolean }>(
    `SELECT DISTINCT j.id, j.name, s.step->'config'->'source'->>'pool' AS pool, true AS live
       FROM "JourneyVersion" v JOIN "Journey" j ON j.id = v."journeyId"
       CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(v.plan->'steps') = 'object'
         THEN v.plan->'steps' ELSE '{}'::jsonb END) AS s(key, step)
      WHERE v."workspaceId" = $1 AND v.status = 'LIVE' AND j.status IN ('LIVE', 'PAUSED')
        AND s.step->>'type' = 'action.coupon' AND s.step->'config'->'source'->>'kind' = 'pool'
     UNION
     SELECT DISTINCT j.id, j.name, n.node->'data'->'source'->>'pool' AS pool, false AS live
       FROM "Journey" j
       CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(j.draft->'nodes') = 'array'
         THEN j.draft->'nodes' ELSE '[]'::jsonb END) AS n(node)
      WHERE j."workspaceId" = $1 AND j.status NOT IN ('LIVE', 'PAUSED', 'ARCHIVED')
        AND n.node->>'type' = 'action.coupon' AND n.node->'data'->'source'->>'kind' = 'pool'`,
    [ctx.user.workspaceId],
  );
  return rows
    .filter((r) => typeof r.pool === "string")
    .map((r) => ({
      pool: r.pool.trim(),
      use: { journeyId: r.id, name: r.name, live: r.live },
    }));
}

async function summaries(ctx: Ctx, only?: string): Promise<CouponPoolSummary[]> {
  const pools = await ctx.db.prisma.couponPool.findMany({
    where: { workspaceId: ctx.user.workspaceId, ...(only ? { id: only } : {}) },
    orderBy: { name: "asc" },
    take: POOLS_LISTED,
    select: { id: true, name: true, createdAt: true },
  });
  if (pools.length === 0) return [];
  // One grouped count per pool: all codes, and those given out (index poolId, messageId).
  const counts = await ctx.db.query<{ poolId: string; codes: number; used: number }>(
    `SELECT "poolId", count(*)::int AS codes, count("messageId")::int AS used
       FROM "CouponCode" WHERE "poolId" = ANY($1::text[]) GROUP BY "poolId"`,
    [pools.map((p) => p.id)],
  );
  const byPool = new Map(counts.map((c) => [c.poolId, c]));
  const uses = await poolUses(ctx);
  return pools.map((p) => {
    const codes = byPool.get(p.id)?.codes ?? 0;
    const used = byPool.get(p.id)?.used ?? 0;
    const usedBy = uses
      .filter((u) => u.pool === p.name || u.pool === p.id)
      .map((u) => u.use)
      .sort((a, b) => Number(b.live) - Number(a.live) || a.name.localeCompare(b.name));
    return {
      id: p.id,
      name: p.name,
      createdAt: p.createdAt,
      codes,
      left: codes - used,
      used,
      stock: stockOf(codes, codes - used),
      usedBy,
    };
  });
}

function quoted(names: string[]): string {
  return names.map((n) => `“${n}”`).join(", ");
}

/** Refused while a live journey gives codes from the pool (`doing`: "rename", "delete"). */
function refuseWhileLive(pool: CouponPoolSummary, doing: string): void {
  const live = pool.usedBy.filter((u) => u.live).map((u) => u.name);
  if (live.length === 0) return;
  const many = live.length > 1;
  throw new TRPCError({
    code: "CONFLICT",
    message: `The live journey${many ? "s" : ""} ${quoted(live)} give${many ? "" : "s"} codes from this pool: you can ${doing} it once ${many ? "they are" : "it is"} stopped or ${many ? "their" : "its"} coupon step uses another pool.`,
  });
}

export interface AddCodesResult {
  /** New codes stored. */
  added: number;
  /** Codes that were in the pool already (not added again). */
  alreadyInPool: number;
  /** Codes that came more than once in this upload (counted once). */
  repeated: number;
  invalid: InvalidLine[];
  invalidCount: number;
  headerSkipped: boolean;
  /** The pool after the upload. */
  codes: number;
  left: number;
  stock: Stock;
}

const UploadText = Text.max(MAX_UPLOAD_BYTES, {
  error: `At most ${MAX_UPLOAD_BYTES / 1024} KB of codes at a time: split the list.`,
}).refine((s) => Buffer.byteLength(s, "utf8") <= MAX_UPLOAD_BYTES, {
  error: `At most ${MAX_UPLOAD_BYTES / 1024} KB of codes at a time: split the list.`,
});

export const couponsRouter = router({
  /** Every pool: codes, left, used, low stock, and the journeys giving codes from it. */
  list: viewerProcedure.query(({ ctx }) => summaries(ctx)),

  get: viewerProcedure.input(z.object({ id: IdText("id") })).query(async ({ ctx, input }) => {
    const [pool] = await summaries(ctx, input.id);
    if (!pool)
      throw new TRPCError({ code: "NOT_FOUND", message: "No coupon pool with that id here." });
    return pool;
  }),

  create: marketerProcedure.input(z.object({ name: Name })).mutation(async ({ ctx, input }) => {
    const pool = await ctx.db.prisma.couponPool
      .create({
        data: { workspaceId: ctx.user.workspaceId, name: input.name },
        select: { id: true, name: true },
      })
      .catch(uniqueName);
    await recordAudit(
      ctx.db,
      ctx.user,
      "couponPool.create",
      { type: "couponPool", id: pool.id },
      {
        name: pool.name,
      },
    );
    return { id: pool.id };
  }),

  rename: marketerProcedure
    .input(z.object({ id: IdText("id"), name: Name }))
    .mutation(async ({ ctx, input }) => {
      const [pool] = await summaries(ctx, input.id);
      if (!pool)
        throw new TRPCError({ code: "NOT_FOUND", message: "No coupon pool with that id here." });
      if (pool.name === input.name) return { id: pool.id, name: pool.name };
      refuseWhileLive(pool, "rename");
      await ctx.db.prisma.couponPool
        .update({ where: { id: pool.id }, data: { name: input.name } })
        .catch(uniqueName);
      await recordAudit(
        ctx.db,
        ctx.user,
        "couponPool.rename",
        { type: "couponPool", id: pool.id },
        {
          from: pool.name,
          to: input.name,
        },
      );
      return { id: pool.id, name: input.name };
    }),

  /** Refused once a code was given out, or while a live journey gives codes from the pool. */
  delete: marketerProcedure
    .input(z.object({ id: IdText("id") }))
    .mutation(async ({ ctx, input }) => {
      const [pool] = await summaries(ctx, input.id);
      if (!pool)
        throw new TRPCError({ code: "NOT_FOUND", message: "No coupon pool with that id here." });
      refuseWhileLive(pool, "delete");
      // Checked in the DELETE itself too: a code given out since the count above keeps the pool.
      const deleted = await ctx.db.query(
        `DELETE FROM "CouponPool" WHERE id = $1 AND NOT EXISTS
           (SELECT 1 FROM "CouponCode" WHERE "poolId" = $1 AND "messageId" IS NOT NULL)
         RETURNING id`,
        [pool.id],
      );
      if (deleted.length === 0) {
        const used = await ctx.db.prisma.couponCode.count({
          where: { poolId: pool.id, messageId: { not: null } },
        });
        throw new TRPCError({
          code: "CONFLICT",
          message: `${used.toLocaleString("en")} code${used === 1 ? " was" : "s were"} already given to customers from this pool: it is kept as the record of who got which code. Leave it unused instead.`,
        });
      }
      await recordAudit(
        ctx.db,
        ctx.user,
        "couponPool.delete",
        { type: "couponPool", id: pool.id },
        {
          name: pool.name,
          codes: pool.codes,
        },
      );
      return { deleted: true };
    }),

  /**
   * Adds pasted text or a CSV/TXT file's content: one code per line or in the first column.
   * A bigger file comes in parts of at most MAX_UPLOAD_BYTES, each with the number of its first
   * line in the file (so invalid lines are reported by their line in the file).
   */
  addCodes: marketerProcedure
    .input(
      z.object({
        id: IdText("id"),
        text: UploadText,
        firstLine: z.number().int().min(1).max(100_000_000).default(1),
      }),
    )
    .mutation(async ({ ctx, input }): Promise<AddCodesResult> => {
      const pool = await poolOr404(ctx, input.id);
      const parsed = parseCouponCodes(input.text, input.firstLine);
      if (parsed.lines > MAX_CODES_PER_UPLOAD)
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: `text: at most ${MAX_CODES_PER_UPLOAD.toLocaleString("en")} codes at a time; this list has ${parsed.lines.toLocaleString("en")}. Split it into smaller lists.`,
        });
      let added = 0;
      if (parsed.codes.length > 0) {
        try {
          const [row] = await ctx.db.query<{ added: number }>(
            `WITH added AS (
               INSERT INTO "CouponCode" (id, "poolId", code)
               SELECT 'c' || replace(gen_random_uuid()::text, '-', ''), $1, c
                 FROM unnest($2::text[]) AS c
               ON CONFLICT ("poolId", code) DO NOTHING
               RETURNING 1)
             SELECT count(*)::int AS added FROM added`,
            [pool.id, parsed.codes],
          );
          added = row?.added ?? 0;
        } catch (err) {
          // The pool was deleted while the codes were being added (foreign key violation).
          if ((err as { code?: unknown }).code === "23503")
            throw new TRPCError({
              code: "NOT_FOUND",
              message: "This pool was deleted in the meantime.",
              cause: err,
            });
          throw err;
        }
      }
      if (added > 0)
        await recordAudit(
          ctx.db,
          ctx.user,
          "couponPool.addCodes",
          { type: "couponPool", id: pool.id },
          { name: pool.name, added },
        );
      const [after] = await ctx.db.query<{ codes: number; used: number }>(
        `SELECT count(*)::int AS codes, count("messageId")::int AS used
           FROM "CouponCode" WHERE "poolId" = $1`,
        [pool.id],
      );
      const codes = after?.codes ?? 0;
      const left = codes - (after?.used ?? 0);
      return {
        added,
        alreadyInPool: parsed.codes.length - added,
        repeated: parsed.repeated,
        invalid: parsed.invalid,
        invalidCount: parsed.invalidCount,
        headerSkipped: parsed.headerSkipped,
        codes,
        left,
        stock: stockOf(codes, left),
      };
    }),
});
