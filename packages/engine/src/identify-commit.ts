// issue 15, item 1: identify calls through a group commit, like events (group-commit.ts).
// Concurrent identify calls (single /v1/identify requests, runs of identifies in /v1/batch)
// share one statement: every call's messageId is claimed in `IdentifyCall`, and the claimed
// calls' traits are merged into their customers, created if new — several calls for one
// customer in the same statement are merged in call order (later traits win, as one after the
// other would). A replayed messageId (claimed before, or earlier in the same statement) merges
// nothing and is answered as a duplicate. Then the claimed calls' subscription traits are applied
// and their segment checks queued in one `addBulk`: one check per customer, which reads the
// customer as all of the statement's calls left it, the statement's customers checked together
// in one job (per MAX_CUSTOMERS_PER_CHECK of them; events.ts processCustomersChanged).
//
// A call is answered once its merge is committed and its segment check queued. Should queueing
// fail, the call is answered with the error (its merge stays committed): the client retries, the
// replay finds `enqueuedAt` still null and queues the check again, once: under the job id it had
// (so Redis adds it once, if the first try got there after all) when the replay is checked with
// the same calls as before; else in a new job (the check is idempotent), and `enqueuedAt` is set.
//
// And underneath, the check is kept in Postgres with the merge (a transactional outbox, as
// "PendingCheck" is for journey steps): the statement that merges the traits inserts an
// "IdentifyCheck" row per customer it merged, named by the customer's first call in it (the name
// its check job gets, `identify-<call>`, when it goes alone); the check job reads the customer's
// rows with the customer and deletes exactly those once done (events.ts); the sweeper queues a
// check for rows older than its grace (maintenance.ts). So a check Redis accepted and then lost
// (a restart without persistence) is queued again, which `enqueuedAt` alone could not tell.
import { randomUUID } from "node:crypto";
import { GroupBatcher, onePer, type BatcherOptions } from "./batcher.ts";
import { applyConsentTraits, consentFromTraits } from "./consent.ts";
import type { EngineContext } from "./context.ts";
import { customerCheckJobs } from "./queues.ts";

export interface IdentifyRow {
  workspaceId: string;
  /** The customer's externalId (Segment's userId). */
  userId: string;
  messageId: string;
  traits: Record<string, unknown>;
  email: string | null;
  phone: string | null;
  timezone: string | null;
}

export interface IdentifyResult {
  customerId: string;
  duplicate: boolean;
}

type Outcome = { ok: true; result: IdentifyResult } | { ok: false; error: Error };

/** As the events' group commit (DEFAULT_GROUP_COMMIT): no linger, two statements in flight. */
export const DEFAULT_IDENTIFY_COMMIT: BatcherOptions = {
  maxItems: 500,
  lingerMs: 0,
  concurrency: 2,
};

// $1 … $9: per call its position, workspace, userId, messageId, call id, a new customer id,
// email, phone, timezone; $10 its traits (jsonb[]); $11 now (ms). Answers per call whether it
// claimed its messageId and, if so, its customer. Every customer merged owes a segment check
// ("IdentifyCheck", named by its first call here) until a check has read it.
const MERGE = `
WITH x AS (
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::text[], $9::text[], $10::jsonb[])
    AS x(i, ws, uid, mid, call, cid, email, phone, tz, traits)
), claim AS (
  INSERT INTO "IdentifyCall" (id, "workspaceId", "messageId", "externalId")
  SELECT call, ws, mid, uid FROM x ORDER BY ws, mid, i
  ON CONFLICT ("workspaceId", "messageId") DO NOTHING
  RETURNING id
), mine AS (
  SELECT x.* FROM x JOIN claim ON claim.id = x.call
), merged AS (
  SELECT ws, uid, min(cid) AS cid, (array_agg(call ORDER BY i))[1] AS call,
         (array_agg(email ORDER BY i DESC) FILTER (WHERE email IS NOT NULL))[1] AS email,
         (array_agg(phone ORDER BY i DESC) FILTER (WHERE phone IS NOT NULL))[1] AS phone,
         (array_agg(tz ORDER BY i DESC) FILTER (WHERE tz IS NOT NULL))[1] AS tz,
         COALESCE((SELECT jsonb_object_agg(t.key, t.value ORDER BY m.i)
                   FROM mine m CROSS JOIN LATERAL jsonb_each(m.traits) t
                   WHERE m.ws = mine.ws AND m.uid = mine.uid), '{}'::jsonb) AS traits
  FROM mine GROUP BY ws, uid
), upsert AS (
  INSERT INTO "Customer" (id, "workspaceId", "externalId", email, phone, timezone, attributes, "updatedAt")
  SELECT cid, ws, uid, email, phone, tz, traits, now() FROM merged ORDER BY ws, uid
  ON CONFLICT ("workspaceId", "externalId") DO UPDATE SET
    email = COALESCE(EXCLUDED.email, "Customer".email),
    phone = COALESCE(EXCLUDED.phone, "Customer".phone),
    timezone = COALESCE(EXCLUDED.timezone, "Customer".timezone),
    attributes = "Customer".attributes || EXCLUDED.attributes,
    "updatedAt" = now()
  RETURNING id, "workspaceId" AS ws, "externalId" AS uid
), owed AS (
  INSERT INTO "IdentifyCheck" ("customerId", "callId", "workspaceId", "createdAt")
  SELECT u.id, m.call, u.ws, to_timestamp($11::float8 / 1000) AT TIME ZONE 'UTC'
  FROM upsert u JOIN merged m ON m.ws = u.ws AND m.uid = u.uid
)
SELECT x.i, u.id AS "customerId"
FROM x JOIN claim ON claim.id = x.call JOIN upsert u ON u.ws = x.ws AND u.uid = x.uid`;

// Replays: the call that claimed the messageId, whether its segment check was queued, the
// customer it named, and when it was received (epoch ms).
const REPLAYS = `
SELECT ic."workspaceId" AS ws, ic."messageId" AS mid, ic.id AS "callId",
       ic."enqueuedAt" IS NOT NULL AS queued, c.id AS "customerId",
       extract(epoch FROM ic."receivedAt" AT TIME ZONE 'UTC')::float8 * 1000 AS "receivedAt"
FROM unnest($1::text[], $2::text[]) AS r(ws, mid)
JOIN "IdentifyCall" ic ON ic."workspaceId" = r.ws AND ic."messageId" = r.mid
LEFT JOIN "Customer" c ON c."workspaceId" = ic."workspaceId" AND c."externalId" = ic."externalId"`;

const SEP = "\u0000";
const newId = (prefix: string) => `${prefix}${randomUUID().replace(/-/g, "")}`;

export class IdentifyCommitter {
  private readonly batcher: GroupBatcher<IdentifyRow, Outcome>;

  constructor(
    private readonly ctx: EngineContext,
    opts: Partial<BatcherOptions> = {},
  ) {
    this.batcher = new GroupBatcher((rows) => this.commit(rows), {
      ...DEFAULT_IDENTIFY_COMMIT,
      ...opts,
    });
  }

  /**
   * Stores a group of identify calls all or nothing (the merge); resolves once they are committed
   * and their segment checks queued, in order. Rejects if any of them failed after the commit.
   */
  async push(rows: IdentifyRow[]): Promise<IdentifyResult[]> {
    const outcomes = await this.batcher.push(rows);
    const failed = outcomes.find((o) => !o.ok);
    if (failed) throw failed.error;
    return outcomes.map((o) => (o as { ok: true; result: IdentifyResult }).result);
  }

  /**
   * The combined call. Only the merge may throw (one statement: nothing of it is committed, and
   * the batcher tries each group again on its own); what follows the commit is reported per call.
   */
  private async commit(rows: IdentifyRow[]): Promise<Outcome[]> {
    const calls = rows.map(() => newId("i"));
    const merged = await this.ctx.db.query<{ i: number; customerId: string }>(
      MERGE,
      [
        rows.map((_, i) => i),
        rows.map((r) => r.workspaceId),
        rows.map((r) => r.userId),
        rows.map((r) => r.messageId),
        calls,
        rows.map(() => newId("c")),
        rows.map((r) => r.email),
        rows.map((r) => r.phone),
        rows.map((r) => r.timezone),
        rows.map((r) => JSON.stringify(r.traits)),
        this.ctx.now(),
      ],
      { prepare: "engine.identifyMerge" },
    );
    const customers = new Map(merged.map((m) => [m.i, m.customerId]));
    const outcomes: Outcome[] = [];
    /**
     * Segment checks to queue, one per customer: it reads the customer as all of this statement's
     * calls left it. `jobCall`, its first call, names its job (customerCheckJobs); `calls` are marked
     * queued with it, `rows` answer the error should queueing fail.
     */
    const toQueue = new Map<string, { jobCall: string; calls: Set<string>; rows: number[] }>();
    const check = (customerId: string, call: string, row: number) => {
      const q = toQueue.get(customerId);
      if (!q) toQueue.set(customerId, { jobCall: call, calls: new Set([call]), rows: [row] });
      else {
        q.calls.add(call);
        q.rows.push(row);
      }
    };
    const replayed = rows.flatMap((_, i) => (customers.has(i) ? [] : [i]));
    const replays = new Map<
      string,
      { callId: string; queued: boolean; customerId: string | null; receivedAt: number }
    >();
    try {
      if (replayed.length) {
        const found = await this.ctx.db.query<{
          ws: string;
          mid: string;
          callId: string;
          queued: boolean;
          customerId: string | null;
          receivedAt: number;
        }>(REPLAYS, [
          replayed.map((i) => rows[i]!.workspaceId),
          replayed.map((i) => rows[i]!.messageId),
        ]);
        for (const f of found) replays.set(`${f.ws}${SEP}${f.mid}`, f);
      }
    } catch (err) {
      for (const i of replayed) outcomes[i] = { ok: false, error: err as Error };
    }
    for (const [i, r] of rows.entries()) {
      if (outcomes[i]) continue;
      const customerId = customers.get(i);
      if (customerId) {
        outcomes[i] = { ok: true, result: { customerId, duplicate: false } };
        check(customerId, calls[i]!, i);
        continue;
      }
      const replay = replays.get(`${r.workspaceId}${SEP}${r.messageId}`);
      if (!replay?.customerId) {
        outcomes[i] = {
          ok: false,
          error: new Error("identify: a replayed call's customer is missing"),
        };
        continue;
      }
      outcomes[i] = { ok: true, result: { customerId: replay.customerId, duplicate: true } };
      // A replay queues the check its first call never got into Redis (named by that call,
      // unless another call of the customer here comes first).
      if (!replay.queued) check(replay.customerId, replay.callId, i);
    }
    // issue 16: `email_subscribed: false`, `subscriptions: { sms: "unsubscribed" }`… set the
    // customer's subscription state, call by call in order. These statements follow the merge's
    // commit: one that fails answers the call with an error, and the sender's retry is a replay.
    // So a replay applies its consent traits again, to each channel not changed since the call
    // was first received (a later call's or an unsubscribe link's choice stands; applied before,
    // it changes nothing).
    for (const [i, r] of rows.entries()) {
      if (outcomes[i]?.ok === false || consentFromTraits(r.traits).length === 0) continue;
      const replay = customers.has(i)
        ? undefined
        : replays.get(`${r.workspaceId}${SEP}${r.messageId}`);
      const customerId = customers.get(i) ?? replay?.customerId;
      if (!customerId) continue;
      try {
        const since = replay ? new Date(replay.receivedAt) : undefined;
        await applyConsentTraits(this.ctx, customerId, r.traits, since);
      } catch (err) {
        outcomes[i] = { ok: false, error: err as Error };
      }
    }
    if (toQueue.size) {
      try {
        await this.ctx.queues.events.addBulk(
          customerCheckJobs(
            "identify",
            new Map([...toQueue].map(([customerId, q]) => [customerId, [q.jobCall]])),
          ),
        );
        await this.ctx.db.query(
          `UPDATE "IdentifyCall" SET "enqueuedAt" = $2 WHERE id = ANY($1::text[])`,
          [[...toQueue.values()].flatMap((q) => [...q.calls]), new Date(this.ctx.now())],
        );
      } catch (err) {
        for (const q of toQueue.values())
          for (const i of q.rows) outcomes[i] = { ok: false, error: err as Error };
      }
    }
    return outcomes;
  }
}

/** The engine context's identify group commit (one per context, created on first use). */
export const identifyCommitter = onePer((ctx: EngineContext) => new IdentifyCommitter(ctx));
