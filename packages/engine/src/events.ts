import { listenedEvents, matchesTrigger, type CustomerSnapshot } from "@postpath/journey";
import type { EngineContext } from "./context.ts";
import { asRecord, toSnapshot, type CustomerRow } from "./customer.ts";
import {
  enrolEntries,
  recordEntrySkipRows,
  type EnrolResult,
  type EntryInput,
  type EntrySkipRow,
} from "./enrol.ts";
import { recordOrdersAndConversions } from "./attribution.ts"; // issue 17
import { loadPlan } from "./plans.ts";
import { refreshSegmentsForCustomers, refreshSegmentsForEventBatch } from "./segments.ts"; // issue 16
import { rangeParams, receivedRange, type ReceivedRange } from "./event-months.ts";
import { EventJob, parseJobData, runJobId, type RunJob } from "./queues.ts";

/**
 * An ingested event: hand it to the customer's active runs that listen for it (goals, exit
 * criteria, parked wait-for-event steps), then enrol the customer into every live journey whose
 * trigger matches. A customer-changed job checks segment triggers instead.
 */
export async function processEventJob(
  ctx: EngineContext,
  data: unknown,
): Promise<{ enrolled: number; delivered: number }> {
  const job = parseJobData(EventJob, data, "event");
  if ("customerId" in job) return processCustomersChanged(ctx, [job.customerId]);
  if ("customerIds" in job) return processCustomersChanged(ctx, job.customerIds);
  // One event is a batch of one: the same plain-SQL path (processEvent's Prisma reads cost more).
  return processEventBatch(ctx, "eventIds" in job ? job.eventIds : [job.eventId], job.received);
}

interface BatchEvent {
  id: string;
  workspaceId: string;
  customerId: string;
  name: string;
  properties: unknown;
  ts: number;
  processed: boolean;
  externalId: string;
  email: string | null;
  phone: string | null;
  timezone: string | null;
  attributes: unknown;
  tags: string[];
  /** Its "receivedAt", epoch ms (event-months.ts: later statements name the month). */
  receivedMs: number;
}

const LOAD_EVENTS = `
SELECT e.id, e."workspaceId", e."customerId", e.name, e.properties,
       (extract(epoch FROM e.timestamp) * 1000)::float8 AS ts, e."processedAt" IS NOT NULL AS processed,
       c."externalId", c.email, c.phone, c.timezone, c.attributes, c.tags,
       (extract(epoch FROM e."receivedAt") * 1000)::float8 AS "receivedMs"
FROM "Event" e JOIN "Customer" c ON c.id = e."customerId"
WHERE e.id = ANY($1::text[])`;
/** The same, in the months of a range of receivedAt only (event-months.ts). Exported for its test. */
export const LOAD_EVENTS_IN = `${LOAD_EVENTS} AND e."receivedAt" BETWEEN $2::timestamp AND $3::timestamp`;

/** Marks a batch's events processed, in the months of their receivedAt. Exported for its test. */
export const MARK_PROCESSED_IN = `
UPDATE "Event" SET "processedAt" = now() AT TIME ZONE 'UTC'
WHERE id = ANY($1::text[]) AND "processedAt" IS NULL
  AND "receivedAt" BETWEEN $2::timestamp AND $3::timestamp`;

/**
 * The events of `ids`, read in the months of `range` when one is known. An event the range missed
 * (a range made wrong, a job edited by hand) is read again by id alone: a range only ever narrows
 * where to look, never what is found.
 */
async function loadEvents(
  ctx: EngineContext,
  ids: readonly string[],
  range: ReceivedRange | undefined,
): Promise<BatchEvent[]> {
  if (!range)
    return ctx.db.query<BatchEvent>(LOAD_EVENTS, [ids], { prepare: "engine.batchEvents" });
  const found = await ctx.db.query<BatchEvent>(LOAD_EVENTS_IN, [ids, ...rangeParams(range)], {
    prepare: "engine.batchEventsIn",
  });
  if (found.length === ids.length) return found;
  const have = new Set(found.map((e) => e.id));
  const rest = ids.filter((id) => !have.has(id));
  return found.concat(
    await ctx.db.query<BatchEvent>(LOAD_EVENTS, [rest], { prepare: "engine.batchEvents" }),
  );
}

/** The live versions whose trigger is one of the batch's event names, for all its workspaces at once. */
const TRIGGERED_VERSIONS = `
SELECT v.id, v."journeyId", v."workspaceId", v."triggerEvent"
FROM "JourneyVersion" v JOIN "Journey" j ON j.id = v."journeyId"
WHERE v."workspaceId" = ANY($1::text[]) AND v.status = 'LIVE' AND j.status = 'LIVE'
  AND v."triggerEvent" = ANY($2::text[])`;

/**
 * Per (customer, name) that can enrol: its stored, unprocessed events earlier than the batch's
 * latest (through "Event_unprocessed_customer_idx", which holds unprocessed events only).
 */
const EARLIER_EVENTS = `
SELECT DISTINCT x.id, (extract(epoch FROM x."receivedAt") * 1000)::float8 AS "receivedMs"
FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[]) AS b(ws, cust, name, ts, id)
CROSS JOIN LATERAL (
  SELECT id, "receivedAt" FROM "Event"
  WHERE "workspaceId" = b.ws AND "customerId" = b.cust AND name = b.name AND "processedAt" IS NULL
    AND (timestamp, id) < (to_timestamp(b.ts / 1000) AT TIME ZONE 'UTC', b.id)
  ORDER BY timestamp, id
  LIMIT $6
) x`;

const ACTIVE_RUNS = `
SELECT id, seq, "versionId", "customerId" FROM "JourneyRun"
WHERE "customerId" = ANY($1::text[]) AND status IN ('ACTIVE', 'WAITING')`;

/**
 * Processes stored events (one, or many from ingest's group commit), then marks them processed
 * (`processedAt`). Everything it does is idempotent and decided in Postgres — an enrolment by the
 * (journey, customer, trigger) unique key, a run's use of the event by the run's `consumed` ids, a
 * refused entry by its unique row — so processing an event again changes nothing.
 *
 * Earlier first: when an event can enrol (a live journey is triggered by its name), the same
 * customer's stored, not yet processed events of that name with an earlier timestamp are processed
 * with it, in timestamp order. So for an entry rule such as "once", the earliest event wins among
 * those received by the time the entry is decided, whatever order their jobs run in.
 *
 * Per batch instead of per event: one read of the events and their customers, one of the
 * triggered journey versions for every workspace and name in the batch, one for the customers'
 * earlier unprocessed events, one for the customers' active
 * runs (goals, exit criteria, parked waits), one `addBulk` of the run jobs, one update marking the
 * events processed. Enrolment too: per round (the r-th event of every customer), one
 * `enrolEntries` for the round's entries and one statement for its trigger-filter refusals. Each
 * customer's events are handled in (timestamp, id) order, so a run one event starts is told of
 * that customer's later events in the batch, as when the events were processed one by one. Events
 * already processed are skipped. If a customer fails (or a round's statement that its events
 * needed), its events stay unprocessed, the others are still marked processed, and the job fails
 * (its retry skips what was done).
 */
export async function processEventBatch(
  ctx: EngineContext,
  eventIds: readonly string[],
  received?: ReceivedRange,
): Promise<{ enrolled: number; delivered: number }> {
  const loaded = await loadEvents(ctx, eventIds, received);
  if (loaded.length < eventIds.length) {
    const found = new Set(loaded.map((e) => e.id));
    ctx.log.warn(
      { eventIds: eventIds.filter((id) => !found.has(id)) },
      "event job for events that no longer exist (or an unknown customer); ignoring them",
    );
  }
  let events = loaded.filter((e) => !e.processed);
  if (events.length === 0) return { enrolled: 0, delivered: 0 };
  const workspaces = [...new Set(events.map((e) => e.workspaceId))];
  const versionRows = await ctx.db.query<{
    id: string;
    journeyId: string;
    workspaceId: string;
    triggerEvent: string;
  }>(TRIGGERED_VERSIONS, [workspaces, [...new Set(events.map((e) => e.name))]], {
    prepare: "engine.batchVersions",
  });
  const versionsOf = new Map<string, { id: string; journeyId: string }[]>();
  for (const v of versionRows) {
    const key = `${v.workspaceId}\u0000${v.triggerEvent}`;
    versionsOf.set(key, [...(versionsOf.get(key) ?? []), { id: v.id, journeyId: v.journeyId }]);
  }
  const triggers = (e: { workspaceId: string; name: string }) =>
    versionsOf.get(`${e.workspaceId}\u0000${e.name}`) ?? [];

  // Earlier-first: the latest batch event per (customer, name) that can enrol names the bound.
  const latest = new Map<string, BatchEvent>();
  for (const e of events) {
    if (triggers(e).length === 0) continue;
    const key = `${e.customerId}\u0000${e.name}`;
    const l = latest.get(key);
    if (!l || e.ts > l.ts || (e.ts === l.ts && e.id > l.id)) latest.set(key, e);
  }
  if (latest.size > 0) {
    const ls = [...latest.values()];
    const inBatch = new Set(events.map((e) => e.id));
    const earlier = (
      await ctx.db.query<{ id: string; receivedMs: number }>(
        EARLIER_EVENTS,
        [
          ls.map((e) => e.workspaceId),
          ls.map((e) => e.customerId),
          ls.map((e) => e.name),
          ls.map((e) => e.ts),
          ls.map((e) => e.id),
          EARLIER_FIRST_LIMIT,
        ],
        { prepare: "engine.batchEarlierEvents" },
      )
    ).filter((r) => !inBatch.has(r.id));
    if (earlier.length > 0)
      events = events.concat(
        (
          await loadEvents(
            ctx,
            earlier.map((r) => r.id),
            receivedRange(earlier.map((r) => r.receivedMs)),
          )
        ).filter((e) => !e.processed),
      );
  }

  const byCustomer = new Map<string, BatchEvent[]>();
  for (const e of events)
    byCustomer.set(e.customerId, [...(byCustomer.get(e.customerId) ?? []), e]);
  const runs = await ctx.db.query<{
    id: string;
    seq: number;
    versionId: string;
    customerId: string;
  }>(ACTIVE_RUNS, [[...byCustomer.keys()]], { prepare: "engine.batchActiveRuns" });
  const activeOf = new Map<string, { id: string; seq: number; versionId: string }[]>();
  for (const r of runs) activeOf.set(r.customerId, [...(activeOf.get(r.customerId) ?? []), r]);

  const runJobs: RunJob[] = [];
  // Counted for the events asked for (an earlier event processed with them counts for its own job).
  const asked = new Set(eventIds);
  let delivered = 0;
  let enrolled = 0;
  const failures: unknown[] = [];
  const customers = [...byCustomer.values()].map((list) => {
    list.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const first = list[0]!;
    return {
      list,
      active: activeOf.get(first.customerId) ?? [],
      snapshot: toSnapshot({
        id: first.customerId,
        externalId: first.externalId,
        email: first.email,
        phone: first.phone,
        timezone: first.timezone,
        attributes: first.attributes,
        tags: first.tags,
      }),
      failed: false,
    };
  });
  type Customer = (typeof customers)[number];
  const fail = (c: Customer, err: unknown) => {
    if (!c.failed) failures.push(err);
    c.failed = true;
  };
  // Rounds: round r handles the r-th event of every customer, so each customer's events still go
  // in (timestamp, id) order — a run one event starts is told of the customer's later events —
  // while the enrolments of a round go to Postgres together (enrolEntries), never two events of
  // one customer at once.
  for (let r = 0; ; r++) {
    const round = customers.filter((c) => !c.failed && r < c.list.length);
    if (round.length === 0) break;
    const entries: EntryInput[] = [];
    const owners: { c: Customer; event: BatchEvent; versionId: string }[] = [];
    const filtered: EntrySkipRow[] = [];
    const filteredOwners = new Set<Customer>();
    for (const c of round) {
      const event = c.list[r]!;
      try {
        // Runs already in flight see the event first (as in processEvent).
        for (const run of c.active) {
          let listens: boolean;
          try {
            listens = listenedEvents(await loadPlan(ctx, run.versionId)).includes(event.name);
          } catch {
            listens = true; // let the run job report the unreadable plan
          }
          if (!listens) continue;
          runJobs.push({
            runId: run.id,
            seq: run.seq,
            input: { kind: "event", eventId: event.id },
          });
          if (asked.has(event.id)) delivered++;
        }
        const properties = asRecord(event.properties);
        for (const v of triggers(event)) {
          const plan = await loadPlan(ctx, v.id);
          if (!matchesTrigger(plan, { name: event.name, properties }, c.snapshot)) {
            filtered.push({
              workspaceId: event.workspaceId,
              journeyId: v.journeyId,
              versionId: v.id,
              customerId: c.snapshot.id,
              triggerId: event.id,
              reason: "filter",
              detail: "the event doesn't meet the trigger's conditions",
            });
            filteredOwners.add(c);
            continue;
          }
          entries.push({
            workspaceId: event.workspaceId,
            journeyId: v.journeyId,
            versionId: v.id,
            customer: c.snapshot,
            trigger: { eventId: event.id, name: event.name, properties, timestamp: event.ts },
          });
          owners.push({ c, event, versionId: v.id });
        }
      } catch (err) {
        fail(c, err);
      }
    }
    // A failed statement fails this round's customers that needed it: their events stay
    // unprocessed and the job fails; the retry finds what was stored (all idempotent).
    try {
      await recordEntrySkipRows(ctx, filtered);
    } catch (err) {
      for (const c of filteredOwners) fail(c, err);
    }
    const live = entries.flatMap((e, n) => (owners[n]!.c.failed ? [] : [n]));
    if (live.length === 0) continue;
    let results: EnrolResult[];
    try {
      results = await enrolEntries(
        ctx,
        live.map((n) => entries[n]!),
      );
    } catch (err) {
      for (const n of live) fail(owners[n]!.c, err);
      continue;
    }
    live.forEach((n, k) => {
      const res = results[k]!;
      const { c, event, versionId } = owners[n]!;
      if (res.runId && !res.skipped) {
        if (asked.has(event.id)) enrolled++;
        // The customer's later events in this batch reach the new run, as one by one they would.
        c.active.push({ id: res.runId, seq: 0, versionId });
      }
    });
  }
  const done = customers.flatMap((c) => (c.failed ? [] : c.list.map((e) => e.id)));
  if (runJobs.length > 0)
    await ctx.queues.runs.addBulk(
      runJobs.map((job) => ({ name: "event", data: job, opts: { jobId: runJobId(job) } })),
    );
  // issue 17: orders and attributed conversions (idempotent), before the events count as processed.
  const handled = new Set(done);
  await recordOrdersAndConversions(
    ctx,
    events.filter((e) => handled.has(e.id)),
  );
  // issue 16: saved segments these event names can affect, for these customers (idempotent),
  // in the statement that marks the events processed when any is affected: one commit for both,
  // then the journeys on the segments' edges start (a retry of the batch finds no edge to start
  // again either way, as when the membership committed first).
  // The months the done events are in: each statement marking them reads those only.
  const doneRange = receivedRange(events.filter((e) => handled.has(e.id)).map((e) => e.receivedMs));
  const segments = await refreshSegmentsForEventBatch(
    ctx,
    events.filter((e) => handled.has(e.id)),
    done,
    doneRange,
  );
  // After their effects (all idempotent), as in processEvent.
  if (done.length > 0 && !segments.marked)
    await ctx.db.query(MARK_PROCESSED_IN, [done, ...rangeParams(doneRange!)], {
      prepare: "engine.batchEventsProcessedIn",
    });
  if (failures.length > 0) throw failures[0];
  return { enrolled, delivered };
}

/** Earlier events of the customer an event job processes first (more wait for their own jobs). */
const EARLIER_FIRST_LIMIT = 50;

/**
 * The customers, each with its pending segment checks ("PendingCheck": journey steps' changes kept
 * with their transitions; "IdentifyCheck": identify calls' merges) read in the same snapshot: every
 * change listed is in the row read, so the check covers it, and a change committed after this read
 * is not listed (its row stays).
 */
const LOAD_CUSTOMERS = `
SELECT c.id, c."workspaceId", c."externalId", c.email, c.phone, c.timezone, c.attributes, c.tags,
       (SELECT json_agg(json_build_array(p."runId", p.seq)) FROM "PendingCheck" p
         WHERE p."customerId" = c.id) AS pending,
       (SELECT json_agg(i."callId") FROM "IdentifyCheck" i
         WHERE i."customerId" = c.id) AS identified
FROM "Customer" c WHERE c.id = ANY($1::text[])`;

/**
 * Pending checks done: exactly those read with their customers (by primary key), and those of
 * customers now gone (by customer). Two deletes, not one with OR: an OR of the two conditions
 * rules out both indexes, and every check job would read the whole table. The same for identify
 * calls' checks ($4, $5: customer and call of each read; "IdentifyCheck"'s key leads with the
 * customer, so its two deletes read one index).
 */
const DONE_CHECKS = `
WITH read AS (
  DELETE FROM "PendingCheck"
  WHERE ("runId", seq) IN (SELECT * FROM unnest($1::text[], $2::int[]))
), identified AS (
  DELETE FROM "IdentifyCheck"
  WHERE ("customerId", "callId") IN (SELECT * FROM unnest($4::text[], $5::text[]))
), identified_gone AS (
  DELETE FROM "IdentifyCheck" WHERE "customerId" = ANY($3::text[])
)
DELETE FROM "PendingCheck" WHERE "customerId" = ANY($3::text[])`;

/** The live segment-triggered versions of these workspaces. */
const SEGMENT_TRIGGERED_VERSIONS = `
SELECT v.id, v."journeyId", v."workspaceId"
FROM "JourneyVersion" v JOIN "Journey" j ON j.id = v."journeyId"
WHERE v."workspaceId" = ANY($1::text[]) AND v.status = 'LIVE' AND j.status = 'LIVE'
  AND v."triggerType" = 'trigger.segment'`;

/**
 * Memberships of inline segment triggers, for many (journey, customer) pairs in one statement:
 * the pairs outside ($1, $2) leave, the pairs inside ($3, $4) enter unless members already, and
 * every inside pair's membership comes back with its `since` — inserted now, or older (read in
 * the statement's snapshot). A pair inserted meanwhile by a concurrent check comes back from
 * neither (its insert waited for that one, then did nothing): the caller reads those again.
 */
const SEGMENT_MEMBERS = `
WITH del AS (
  DELETE FROM "SegmentMember" m USING unnest($1::text[], $2::text[]) AS o(j, c)
  WHERE m."journeyId" = o.j AND m."customerId" = o.c
), i AS (
  SELECT * FROM unnest($3::text[], $4::text[]) AS i(j, c)
), ins AS (
  INSERT INTO "SegmentMember" ("journeyId", "customerId", since)
  SELECT j, c, $5::timestamp FROM i ORDER BY j, c
  ON CONFLICT DO NOTHING
  RETURNING "journeyId", "customerId", (extract(epoch FROM since) * 1000)::float8 AS since
)
SELECT "journeyId", "customerId", since FROM ins
UNION ALL
SELECT m."journeyId", m."customerId", (extract(epoch FROM m.since) * 1000)::float8
FROM "SegmentMember" m JOIN i ON m."journeyId" = i.j AND m."customerId" = i.c`;

const READ_MEMBERS = `
SELECT m."journeyId", m."customerId", (extract(epoch FROM m.since) * 1000)::float8 AS since
FROM "SegmentMember" m JOIN unnest($1::text[], $2::text[]) AS i(j, c)
  ON m."journeyId" = i.j AND m."customerId" = i.c`;

/**
 * Segment entry: customers whose attributes changed now match (or no longer match) live
 * segment-triggered journeys. Membership rows make "entry" an edge, not a level: only a customer
 * who was outside the segment enters (subject to the entry rules), once per membership — the
 * trigger id names when the membership began (`segment-<since ms>`), so a retry, or a later
 * identify while still inside, finds the run it made instead of entering again; a customer who
 * left and comes back enters again, subject to the entry rules.
 *
 * Per batch (issue 15: the identify group commit queues one check per statement): one read of
 * the customers; per workspace, one statement refreshing the saved segments on attributes or
 * consent for all of its customers (which also reads the live segment-triggered versions; else
 * one read of those for every workspace left); one statement for every membership that leaves or
 * enters; one `enrolEntries` for the entries. Everything is idempotent, so a failed job's retry
 * does again what was not done and enters nobody twice. Customers that no longer exist are skipped.
 */
export async function processCustomersChanged(
  ctx: EngineContext,
  customerIds: readonly string[],
): Promise<{ enrolled: number; delivered: number }> {
  const ids = [...new Set(customerIds)];
  const rows = await ctx.db.query<
    CustomerRow & {
      workspaceId: string;
      pending: [string, number][] | null;
      identified: string[] | null;
    }
  >(LOAD_CUSTOMERS, [ids], { prepare: "engine.changedCustomersPending" });
  let gone: string[] = [];
  if (rows.length < ids.length) {
    const found = new Set(rows.map((r) => r.id));
    gone = ids.filter((id) => !found.has(id));
    ctx.log.warn({ customerIds: gone }, "customer-changed job for an unknown customer; ignoring");
  }
  const result = await checkCustomers(ctx, rows);
  // issue 15: the journey steps' and identify calls' checks this one covered are done (after it,
  // so a failure leaves them for the retry and the sweeper).
  const pending = rows.flatMap((r) => r.pending ?? []);
  // In key order, as the index holds them, so two checks clearing the same rows take them in one
  // order when the plan follows the list (a deadlock would fail one job, and its retry is harmless).
  const identified = rows
    .flatMap((r) => (r.identified ?? []).map((call) => [r.id, call] as const))
    .sort(([c1, k1], [c2, k2]) => (c1 < c2 || (c1 === c2 && k1 < k2) ? -1 : 1));
  if (pending.length > 0 || identified.length > 0 || gone.length > 0)
    await ctx.db.query(
      DONE_CHECKS,
      [
        pending.map((p) => p[0]),
        pending.map((p) => p[1]),
        gone,
        identified.map((p) => p[0]),
        identified.map((p) => p[1]),
      ],
      { prepare: "engine.doneChecks" },
    );
  return result;
}

async function checkCustomers(
  ctx: EngineContext,
  rows: readonly (CustomerRow & { workspaceId: string })[],
): Promise<{ enrolled: number; delivered: number }> {
  if (rows.length === 0) return { enrolled: 0, delivered: 0 };
  const byWorkspace = new Map<string, (CustomerRow & { workspaceId: string })[]>();
  for (const r of rows) {
    const list = byWorkspace.get(r.workspaceId);
    if (list) list.push(r);
    else byWorkspace.set(r.workspaceId, [r]);
  }

  // issue 16: saved segments, per workspace for all its customers at once.
  const versionsOf = new Map<string, { id: string; journeyId: string }[]>();
  for (const [workspaceId, list] of byWorkspace) {
    const refreshed = await refreshSegmentsForCustomers(
      ctx,
      workspaceId,
      list.map((c) => c.id),
    );
    if (refreshed.versions) versionsOf.set(workspaceId, refreshed.versions);
  }
  const unread = [...byWorkspace.keys()].filter((ws) => !versionsOf.has(ws));
  if (unread.length > 0) {
    for (const ws of unread) versionsOf.set(ws, []);
    for (const v of await ctx.db.query<{ id: string; journeyId: string; workspaceId: string }>(
      SEGMENT_TRIGGERED_VERSIONS,
      [unread],
      { prepare: "engine.segmentTriggeredVersionsOf" },
    ))
      versionsOf.get(v.workspaceId)!.push({ id: v.id, journeyId: v.journeyId });
  }

  // Inside or outside each live version's inline conditions, per customer.
  const outside: { journeyId: string; customerId: string }[] = [];
  const inside: {
    workspaceId: string;
    journeyId: string;
    versionId: string;
    customer: CustomerSnapshot;
  }[] = [];
  for (const [workspaceId, list] of byWorkspace) {
    const versions = versionsOf.get(workspaceId) ?? [];
    if (versions.length === 0) continue;
    const customers = list.map(toSnapshot);
    for (const v of versions) {
      const plan = await loadPlan(ctx, v.id);
      for (const customer of customers) {
        if (matchesTrigger(plan, { name: "", properties: {} }, customer))
          inside.push({ workspaceId, journeyId: v.journeyId, versionId: v.id, customer });
        else outside.push({ journeyId: v.journeyId, customerId: customer.id });
      }
    }
  }
  if (inside.length === 0 && outside.length === 0) return { enrolled: 0, delivered: 0 };
  // Rows in (journey, customer) order, so concurrent checks take their locks in one order: the
  // order of the NUL-separated key (NUL sorts below every other character).
  const pairKey = (journeyId: string, customerId: string) => `${journeyId}\u0000${customerId}`;
  const byPair = (
    a: { journeyId: string; customerId: string },
    b: { journeyId: string; customerId: string },
  ) => {
    const [x, y] = [pairKey(a.journeyId, a.customerId), pairKey(b.journeyId, b.customerId)];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  outside.sort(byPair);
  const pairs = inside.map((e) => ({ journeyId: e.journeyId, customerId: e.customer.id }));
  pairs.sort(byPair);
  const since = new Map<string, number>();
  type Member = { journeyId: string; customerId: string; since: number };
  for (const m of await ctx.db.query<Member>(
    SEGMENT_MEMBERS,
    [
      outside.map((p) => p.journeyId),
      outside.map((p) => p.customerId),
      pairs.map((p) => p.journeyId),
      pairs.map((p) => p.customerId),
      new Date(ctx.now()).toISOString().slice(0, -1),
    ],
    { prepare: "engine.segmentMembers" },
  ))
    since.set(pairKey(m.journeyId, m.customerId), Math.round(m.since));
  const missed = pairs.filter((p) => !since.has(pairKey(p.journeyId, p.customerId)));
  if (missed.length > 0)
    for (const m of await ctx.db.query<Member>(
      READ_MEMBERS,
      [missed.map((p) => p.journeyId), missed.map((p) => p.customerId)],
      { prepare: "engine.readSegmentMembers" },
    ))
      since.set(pairKey(m.journeyId, m.customerId), Math.round(m.since));

  // One entry per membership (a pair still missing left again meanwhile).
  const entries: EntryInput[] = inside.flatMap((e) => {
    const at = since.get(pairKey(e.journeyId, e.customer.id));
    if (at === undefined) return [];
    return [
      {
        ...e,
        trigger: {
          eventId: `segment-${at}`,
          name: "segment_entered",
          properties: {},
          timestamp: at,
        },
      },
    ];
  });
  if (entries.length === 0) return { enrolled: 0, delivered: 0 };
  const results = await enrolEntries(ctx, entries);
  let enrolled = 0;
  results.forEach((res, i) => {
    if (res.runId && !res.skipped) enrolled++;
    else if (res.skipped !== "already enrolled by this trigger")
      ctx.log.debug(
        {
          journeyId: entries[i]!.journeyId,
          customerId: entries[i]!.customer.id,
          reason: res.skipped,
        },
        "segment entry not enrolled",
      );
  });
  return { enrolled, delivered: 0 };
}
