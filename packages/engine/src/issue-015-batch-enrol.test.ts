// Issue 15, item 1: the events worker enrols a batch's entries together (enrolEntries: a few
// statements per round of the batch instead of three Prisma round trips per entry). The outcome
// must be exactly the old path's — one enrol() per entry, events one at a time: the same runs,
// refusals, first jobs, deliveries to runs a batch event started, and then the same traces once
// the runs go. Two harnesses get the same journeys, customers and events: one processes the
// events as one batch, the other one at a time through enrol(); their rows are compared.
import {
  listenedEvents,
  matchesTrigger,
  type JourneySettingsInput,
  type StepSpec,
} from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toSnapshot, asRecord } from "./customer.ts";
import { enrol, enrolEntries, recordEntrySkip } from "./enrol.ts";
import { processEventBatch } from "./events.ts";
import { trackMany } from "./ingest.ts";
import { nodeCounts } from "./operate.ts";
import { loadPlan } from "./plans.ts";
import { runJobId, type RunJob } from "./queues.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

let batched: EngineHarness; // the new path: processEventBatch → enrolEntries
let single: EngineHarness; // the old path: one event at a time, enrol() per entry

beforeAll(async () => {
  // No workers: the test decides when events are processed and when runs go.
  [batched, single] = await Promise.all([
    startEngineHarness({ workers: false }),
    startEngineHarness({ workers: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([batched?.close(), single?.close()]);
});

const JOURNEYS: { name: string; steps: StepSpec[]; settings: JourneySettingsInput }[] = [
  {
    name: "once",
    steps: [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      {
        id: "w",
        type: "wait.event",
        data: { event: "form_submitted", timeout: { amount: 1, unit: "days" } },
        next: { arrived: "end", timedOut: "end" },
      },
    ],
    settings: { entry: { mode: "once" } },
  },
  {
    name: "per serial",
    steps: [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
    ],
    settings: { entry: { mode: "once", perValueOf: "serial" } },
  },
  {
    name: "big orders, again after exit",
    steps: [
      {
        id: "t",
        type: "trigger.event",
        data: { event: "purchase", filters: [{ property: "total", op: "gt", value: 100 }] },
        next: "w",
      },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
    ],
    settings: { entry: { mode: "afterExit" } },
  },
  {
    name: "signup",
    steps: [{ id: "t", type: "trigger.event", data: { event: "signup" }, next: "end" }],
    settings: { entry: { mode: "once" } },
  },
];

interface Ev {
  user: string;
  event: string;
  props: Record<string, unknown>;
  /** Seconds after 10:00; distinct per customer, so (timestamp, id) order is the same in both. */
  at: number;
  msg: string;
}

let seq = 0;
const ev = (user: string, event: string, props: Record<string, unknown>, at: number): Ev => ({
  user,
  event,
  props,
  at,
  msg: `m${seq++}`,
});

// Processed before the batch (and then: c3's runs ended; c4's event marked unprocessed again and
// its runs' first jobs removed, as after a crash between its run inserts and the jobs).
const BEFORE: Ev[] = [
  ev("c3", "purchase", { serial: "S3", total: 500 }, 0),
  ev("c4", "purchase", { serial: "S4", total: 500 }, 0),
];
const BATCH: Ev[] = [
  // enrols everywhere
  ev("c0", "purchase", { serial: "A", total: 200 }, 10),
  // two purchases: "once" refuses the second (its run is active), per serial makes two runs,
  // the first is filtered out of "big orders", the second enrols; the form reaches the "once" run
  ev("c1", "purchase", { serial: "A", total: 50 }, 10),
  ev("c1", "purchase", { serial: "B", total: 150 }, 20),
  ev("c1", "form_submitted", { form: "x" }, 30),
  // no serial: refused per serial ("noEntryValue"); an empty one too
  ev("c2", "purchase", { total: 10 }, 10),
  ev("c2", "purchase", { serial: " ", total: 10 }, 20),
  // entered before: "once" refuses, per serial S3 refuses, "big orders" admits entry 2
  ev("c3", "purchase", { serial: "S3", total: 300 }, 10),
  ev("c3", "purchase", { serial: "S9", total: 300 }, 20),
  // the same serial twice in the batch: the second is refused (active run for S5)
  ev("c5", "purchase", { serial: "S5", total: 120 }, 10),
  ev("c5", "purchase", { serial: "S5", total: 130 }, 20),
  // the form after the purchase reaches the run the purchase started; signup enrols too
  ev("c6", "signup", {}, 5),
  ev("c6", "purchase", { serial: "C", total: 20 }, 10),
  ev("c6", "form_submitted", { form: "y" }, 15),
  ev("c6", "signup", {}, 25),
  // many customers with one or two purchases
  ...Array.from({ length: 30 }, (_, i) => [
    ev(`u${i}`, "purchase", { serial: `S${i % 3}`, total: i % 2 ? 150 : 50 }, 10),
    ...(i < 10 ? [ev(`u${i}`, "purchase", { serial: `S${i % 4}`, total: 200 }, 20 + i)] : []),
  ]).flat(),
];

const at = (s: number) => new Date(Date.parse("2026-11-20T10:00:00Z") + s * 1000).toISOString();

async function ingest(h: EngineHarness, evs: Ev[]): Promise<string[]> {
  const out = await trackMany(
    h.ctx,
    h.workspaceId,
    evs.map((e) => ({
      userId: e.user,
      event: e.event,
      properties: e.props,
      timestamp: at(e.at),
      messageId: e.msg,
    })),
  );
  return out.map((r) => r.eventId);
}

/** The old path, for one event (what processEventBatch did before, for a batch of one). */
async function oldPath(h: EngineHarness, eventId: string): Promise<void> {
  const e = await h.db.prisma.event.findUniqueOrThrow({ where: { id: eventId } });
  if (e.processedAt) return;
  const snapshot = toSnapshot(
    await h.db.prisma.customer.findUniqueOrThrow({ where: { id: e.customerId } }),
  );
  const active = await h.db.prisma.journeyRun.findMany({
    where: { customerId: e.customerId, status: { in: ["ACTIVE", "WAITING"] } },
    select: { id: true, seq: true, versionId: true },
  });
  for (const run of active) {
    if (!listenedEvents(await loadPlan(h.ctx, run.versionId)).includes(e.name)) continue;
    const job: RunJob = { runId: run.id, seq: run.seq, input: { kind: "event", eventId: e.id } };
    await h.ctx.queues.runs.add("event", job, { jobId: runJobId(job) });
  }
  const versions = await h.db.prisma.journeyVersion.findMany({
    where: { workspaceId: e.workspaceId, status: "LIVE", triggerEvent: e.name },
    select: { id: true, journeyId: true },
  });
  const properties = asRecord(e.properties);
  for (const v of versions) {
    const plan = await loadPlan(h.ctx, v.id);
    if (!matchesTrigger(plan, { name: e.name, properties }, snapshot)) {
      await recordEntrySkip(h.ctx, {
        workspaceId: e.workspaceId,
        journeyId: v.journeyId,
        versionId: v.id,
        customerId: snapshot.id,
        triggerId: e.id,
        reason: "filter",
        detail: "the event doesn't meet the trigger's conditions",
      });
      continue;
    }
    await enrol(h.ctx, {
      workspaceId: e.workspaceId,
      journeyId: v.journeyId,
      versionId: v.id,
      customer: snapshot,
      trigger: { eventId: e.id, name: e.name, properties, timestamp: e.timestamp.getTime() },
    });
  }
  await h.db.prisma.event.update({ where: { id: e.id }, data: { processedAt: new Date() } });
}

/** Each event one at a time, in (timestamp, id) order. */
async function oneByOne(h: EngineHarness, ids: string[]): Promise<void> {
  const rows = await h.db.prisma.event.findMany({
    where: { id: { in: ids } },
    orderBy: [{ timestamp: "asc" }, { id: "asc" }],
    select: { id: true },
  });
  for (const r of rows) await oldPath(h, r.id);
}

/** A harness's rows, with ids replaced by names (journeys, customers, message ids, runs). */
async function snapshot(h: EngineHarness) {
  const db = h.db.prisma;
  const [journeys, customers, events, runs, skips, traces] = await Promise.all([
    db.journey.findMany({ where: { workspaceId: h.workspaceId } }),
    db.customer.findMany({ where: { workspaceId: h.workspaceId } }),
    db.event.findMany({ where: { workspaceId: h.workspaceId } }),
    db.journeyRun.findMany({ where: { workspaceId: h.workspaceId } }),
    db.entrySkip.findMany({ where: { workspaceId: h.workspaceId } }),
    db.runTrace.findMany({ orderBy: { id: "asc" } }),
  ]);
  const journey = new Map(journeys.map((j) => [j.id, j.name]));
  const customer = new Map(customers.map((c) => [c.id, c.externalId]));
  const message = new Map(events.map((e) => [e.id, e.messageId]));
  const runName = new Map(
    runs.map((r) => [
      r.id,
      `${journey.get(r.journeyId)}/${customer.get(r.customerId)}/${message.get(r.triggerEventId ?? "")}`,
    ]),
  );
  const sorted = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();
  const jobs = await h.ctx.queues.runs.shards[0]!.getJobs([
    "waiting",
    "delayed",
    "prioritized",
    "active",
  ]);
  return {
    runs: sorted(
      runs.map((r) => [
        runName.get(r.id),
        r.entryNumber,
        r.entryKey,
        r.status,
        r.currentStepId,
        r.seq,
        r.trigger,
      ]),
    ),
    skips: sorted(
      skips.map((s) => [
        journey.get(s.journeyId),
        customer.get(s.customerId),
        message.get(s.triggerId),
        s.reason,
        s.detail,
      ]),
    ),
    jobs: sorted(
      jobs.map((j) => {
        const d = j.data;
        return [
          j.name,
          runName.get(d.runId),
          d.seq,
          d.input.kind,
          d.input.kind === "event" ? message.get(d.input.eventId) : null,
        ];
      }),
    ),
    traces: sorted(
      traces
        .filter((t) => runName.has(t.runId))
        .map((t) => [runName.get(t.runId), t.stepId, t.kind]),
    ),
    counts: await Promise.all(
      journeys
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map(async (j) => [j.name, await nodeCounts(h.ctx, h.workspaceId, j.id)]),
    ),
  };
}

async function setUp(h: EngineHarness, process: (ids: string[]) => Promise<void>) {
  for (const j of JOURNEYS) await h.publish(j.name, j.steps, j.settings);
  const before = await ingest(h, BEFORE);
  await process(before);
  await h.db.prisma.journeyRun.updateMany({
    where: { workspaceId: h.workspaceId, triggerEventId: before[0] },
    data: { status: "COMPLETED" },
  });
  await h.db.prisma.event.update({ where: { id: before[1] }, data: { processedAt: null } });
  // ... and its runs' first jobs lost (a crash before they were queued): the batch queues them.
  for (const r of await h.db.prisma.journeyRun.findMany({ where: { triggerEventId: before[1] } })) {
    const job: RunJob = { runId: r.id, seq: 0, input: { kind: "entered" } };
    await (await h.ctx.queues.runs.shards[0]!.getJob(runJobId(job)))?.remove();
  }
  const batch = await ingest(h, BATCH);
  return [before[1]!, ...batch];
}

describe("issue 15: the events worker enrols a batch's entries together", () => {
  it("gives the runs, refusals, jobs and traces of one enrol() per event; a re-run enrols nobody twice", async () => {
    const ids = await setUp(batched, async (xs) => {
      await processEventBatch(batched.ctx, xs);
    });
    const oldIds = await setUp(single, (xs) => oneByOne(single, xs));

    const result = await processEventBatch(batched.ctx, ids);
    await oneByOne(single, oldIds);

    const got = await snapshot(batched);
    const want = await snapshot(single);
    expect(got.runs).toEqual(want.runs);
    expect(got.skips).toEqual(want.skips);
    expect(got.jobs).toEqual(want.jobs);
    expect(got.traces).toEqual([]); // enrolment writes none: the runs' jobs do
    expect(got.counts).toEqual(want.counts);
    // Some of everything happened.
    const reasons = new Set(got.skips.map((s) => (JSON.parse(s) as string[])[3]));
    expect([...reasons].sort()).toEqual(["activeRun", "enteredBefore", "filter", "noEntryValue"]);
    expect(got.runs.some((r) => (JSON.parse(r) as unknown[])[1] === 2)).toBe(true);
    expect(got.jobs.some((j) => (JSON.parse(j) as unknown[])[3] === "event")).toBe(true);
    const made = got.runs.length - 6; // the runs of the two events before the batch (3 each)
    expect(result.enrolled).toBe(made);

    // The same batch again (a retried job after a crash before the processed mark): nothing new.
    await batched.db.prisma.event.updateMany({
      where: { id: { in: ids } },
      data: { processedAt: null },
    });
    expect(await processEventBatch(batched.ctx, ids)).toMatchObject({ enrolled: 0 });
    const again = await snapshot(batched);
    expect(again.runs).toEqual(got.runs);
    expect(again.skips).toEqual(got.skips);
    expect(again.jobs).toEqual(got.jobs);

    // Then the runs go, in both: the same traces.
    for (const h of [batched, single]) h.startWorkers();
    const reading = async (h: EngineHarness) => {
      const counts = await h.ctx.queues.runs.shards[0]!.getJobCounts(
        "waiting",
        "active",
        "prioritized",
      );
      const unstarted = await h.db.prisma.journeyRun.count({
        where: { workspaceId: h.workspaceId, seq: 0, status: "ACTIVE" },
      });
      return { ...counts, unstarted };
    };
    const both = async () => [await reading(batched), await reading(single)];
    await waitFor(
      "both harnesses' runs to start and their jobs to drain",
      async () => ((await both()).every((r) => Object.values(r).every((n) => n === 0)) ? 1 : null),
      { progress: both },
    );
    const gone = await snapshot(batched);
    const goneOld = await snapshot(single);
    expect(gone.traces.length).toBeGreaterThan(0);
    expect(gone.traces).toEqual(goneOld.traces);
    expect(gone.runs).toEqual(goneOld.runs);
    expect(gone.counts).toEqual(goneOld.counts);
  });

  it("enrolEntries takes one (journey, customer) twice in one call as two enrol() calls in a row", async () => {
    const run = async (h: EngineHarness, together: boolean) => {
      const { journeyId, versionId } = await h.publish(
        "twice",
        [
          { id: "t", type: "trigger.event", data: { event: "reorder" }, next: "w" },
          { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
        ],
        { entry: { mode: "once", perValueOf: "serial" } },
      );
      const id = await h.customer("twice");
      const customer = toSnapshot(await h.db.prisma.customer.findUniqueOrThrow({ where: { id } }));
      const entry = (eventId: string, serial: string) => ({
        workspaceId: h.workspaceId,
        journeyId,
        versionId,
        customer,
        trigger: { eventId, name: "reorder", properties: { serial }, timestamp: 0 },
      });
      const entries = [entry("e1", "X"), entry("e2", "Y"), entry("e3", "X"), entry("e1", "X")];
      const results = together
        ? await enrolEntries(h.ctx, entries)
        : await entries.reduce<Promise<Awaited<ReturnType<typeof enrol>>[]>>(
            async (acc, e) => [...(await acc), await enrol(h.ctx, e)],
            Promise.resolve([]),
          );
      const runs = await h.db.prisma.journeyRun.findMany({
        where: { journeyId },
        orderBy: [{ entryKey: "asc" }, { entryNumber: "asc" }],
      });
      const skips = await h.db.prisma.entrySkip.findMany({ where: { journeyId } });
      const name = new Map(runs.map((r) => [r.id, r.triggerEventId]));
      return {
        results: results.map((r) => [r.runId ? name.get(r.runId) : null, r.skipped ?? null]),
        runs: runs.map((r) => [r.entryKey, r.entryNumber, r.triggerEventId]),
        skips: skips.map((s) => [s.triggerId, s.reason, s.detail]),
      };
    };
    const [got, want] = await Promise.all([run(batched, true), run(single, false)]);
    expect(got).toEqual(want);
    expect(got.results).toEqual([
      ["e1", null],
      ["e2", null],
      [null, "entry rule: already in this journey for serial X"],
      ["e1", "already enrolled by this trigger"],
    ]);
  });
});
