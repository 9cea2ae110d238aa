// Issue 15, rolling upgrades: a job queued by a newer release may carry fields this release does
// not know (as `received` on events jobs and `createdAt` on send jobs once were). The workers must
// process such jobs — unknown fields ignored — instead of refusing them (the events then waited for
// the sweeper's grace), while a job missing a required field or with a wrong type is still refused:
// failed at once (not retried), kept with the failed jobs. Real Postgres and Redis, workers
// in-process, webhooks to a local receiver.
import { createProvider } from "@postpath/channels";
import type { Queue } from "bullmq";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { EventJob, MaintenanceJob, RunJob, SendJob, type ShardedQueue } from "./queues.ts";
import { processRunJob } from "./runner.ts";
import { startSink, type Sink } from "./testing/sink.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { TimerBucketJob } from "./timers.ts";

/** What a newer release might add: a field of its own, of any shape. */
const NEWER = { schemaRev: 7, newerHint: { priority: "high", tags: ["x"] } };

describe("job schemas ignore fields they do not know, and still refuse bad jobs", () => {
  const received = { from: 1_800_000_000_000, to: 1_800_000_001_000 };

  it("each events job shape parses to its own shape with extra fields", () => {
    const cases: [unknown, EventJob][] = [
      [
        { eventId: "e1", received: { ...received, precision: "us" }, ...NEWER },
        { eventId: "e1", received },
      ],
      [{ eventId: "e1", ...NEWER }, { eventId: "e1" }],
      [
        { eventIds: ["e2", "e3"], received: { ...received, precision: "us" }, ...NEWER },
        { eventIds: ["e2", "e3"], received },
      ],
      [
        { customerId: "c1", reason: "identify", ...NEWER },
        { customerId: "c1", reason: "identify" },
      ],
      [
        { customerIds: ["c1", "c2"], reason: "attributes", ...NEWER },
        { customerIds: ["c1", "c2"], reason: "attributes" },
      ],
    ];
    for (const [data, want] of cases) {
      const parsed = EventJob.safeParse(data);
      expect(parsed.success, JSON.stringify(data)).toBe(true);
      // Exactly the shape's own fields: the batch keeps its ids, no other shape's keys appear.
      expect(parsed.data).toStrictEqual(want);
    }
  });

  it("an events job missing a required field, of a wrong type or of two shapes at once is refused", () => {
    for (const data of [
      { received, ...NEWER }, // no ids at all
      { eventId: "", ...NEWER },
      { eventId: 5 },
      { eventIds: [] },
      { eventIds: "e1" },
      { eventId: "e1", received: { from: received.from } }, // range without its end
      { eventId: "e1", received: { from: "yesterday", to: received.to } },
      { eventId: "e1", received: { from: received.to, to: received.from } },
      { customerId: "c1" }, // no reason
      { customerId: "c1", reason: "bogus" },
      { customerIds: ["c1"], ...NEWER },
      { customerIds: Array.from({ length: 501 }, (_, i) => `c${i}`), reason: "identify" },
      // Keys of two shapes: which ids would it be? Refused, as under .strict().
      { eventId: "e1", eventIds: ["e2"] },
      { customerId: "c1", customerIds: ["c2"], reason: "identify" },
      { eventId: "e1", customerId: "c1", reason: "identify" },
      null,
      "e1",
    ])
      expect(EventJob.safeParse(data).success, JSON.stringify(data)).toBe(false);
  });

  it("timer bucket jobs keep a newer release's fields (they travel to the continuations)", () => {
    expect(
      TimerBucketJob.parse({ from: 10, to: 20, after: { at: "x", id: "r1", seq: 3 }, ...NEWER }),
    ).toStrictEqual({ from: 10, to: 20, after: { at: "x", id: "r1" }, ...NEWER });
    for (const data of [
      { to: 20, ...NEWER },
      { from: 10, ...NEWER },
      { from: "10", to: 20 },
      { from: 20, to: 10, ...NEWER },
      { from: 10, to: 20, after: { at: "x" } },
      { from: 10, to: 20, after: "r1" },
    ])
      expect(TimerBucketJob.safeParse(data).success, JSON.stringify(data)).toBe(false);
  });

  it("send, run and housekeeping jobs ignore extra fields and refuse missing ones", () => {
    expect(SendJob.parse({ messageId: "m1", createdAt: 5, ...NEWER })).toStrictEqual({
      messageId: "m1",
      createdAt: 5,
    });
    expect(SendJob.safeParse({ createdAt: 5, ...NEWER }).success).toBe(false);
    expect(SendJob.safeParse({ messageId: "m1", createdAt: true }).success).toBe(false);
    expect(
      RunJob.parse({ runId: "r1", seq: 2, input: { kind: "timer", stepId: "w", ...NEWER } }),
    ).toStrictEqual({ runId: "r1", seq: 2, input: { kind: "timer", stepId: "w" } });
    expect(RunJob.safeParse({ runId: "r1", input: { kind: "entered" } }).success).toBe(false);
    expect(RunJob.safeParse({ runId: "r1", seq: 0, input: { kind: "later" } }).success).toBe(false);
    expect(MaintenanceJob.parse({ kind: "sweep", graceMs: 5, ...NEWER })).toStrictEqual({
      kind: "sweep",
      graceMs: 5,
    });
    expect(MaintenanceJob.safeParse({ kind: "enrolment", ...NEWER }).success).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Through the workers.

let sink: Sink;
let h: EngineHarness;
/** How far the engine's clock is ahead of the real one (the timers test jumps to the due time). */
let ahead = 0;

/** Waits for a job to finish; its end state, and why it failed. */
async function settled<T>(queue: ShardedQueue<T> | Queue<T>, jobId: string) {
  return waitFor(`job ${jobId} to finish`, async () => {
    const job = await queue.getJob(jobId);
    const state = job ? await job.getState() : "unknown";
    return state === "completed" || state === "failed"
      ? { state, failedReason: job!.failedReason, attemptsMade: job!.attemptsMade }
      : null;
  });
}

const hook = (path: string) => ({
  id: "m",
  type: "action.webhook" as const,
  data: { url: `${sink.url}/${path}`, body: '{"n":1}' },
  next: "end",
});

async function runsOf(journeyId: string) {
  return h.db.prisma.journeyRun.findMany({
    where: { journeyId },
    select: { id: true, customerId: true, status: true },
  });
}

describe("jobs from a newer release are processed by the workers", () => {
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(async () => {
    sink.deliveries.length = 0;
    sink.processed.clear();
    ahead = 0;
    h = await startEngineHarness({
      providers: { webhook: createProvider("webhook", { secret: "test-secret", timeoutMs: 2000 }) },
      timers: { bucketMs: 400, directWithinMs: 1000, pageSize: 2 },
      now: () => Date.now() + ahead,
      // The tests queue the jobs themselves, then start the workers.
      workers: false,
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it("events jobs (one event, a batch of events) with unknown fields enrol their customers", async () => {
    const { journeyId } = await h.publish("Ordered", [
      { id: "t", type: "trigger.event", data: { event: "ordered" }, next: "m" },
      hook("ordered"),
    ]);
    const events: string[] = [];
    for (const userId of ["single", "batch-1", "batch-2"])
      events.push((await track(h.ctx, h.workspaceId, { userId, event: "ordered" })).eventId);
    // The jobs ingest queued, then replaced by the same as a newer release would queue them.
    const queued = await waitFor("the events queued", async () => {
      const jobs = (await h.ctx.queues.events.getJobs(["waiting"])).map((j) => j.data);
      const ids = jobs.flatMap((d) =>
        "eventIds" in d ? d.eventIds : "eventId" in d ? [d.eventId] : [],
      );
      return events.every((e) => ids.includes(e)) && jobs;
    });
    const ranges = queued.flatMap((d) => ("received" in d && d.received ? [d.received] : []));
    expect(ranges.length).toBeGreaterThan(0);
    const range = {
      from: Math.min(...ranges.map((r) => r.from)),
      to: Math.max(...ranges.map((r) => r.to)),
    };
    await h.ctx.queues.events.obliterate({ force: true });
    const newer = { ...NEWER, received: { ...range, precision: "us" } };
    await h.ctx.queues.events.add(
      "event",
      { eventId: events[0]!, ...newer },
      {
        jobId: "newer-single",
      },
    );
    await h.ctx.queues.events.add(
      "events",
      { eventIds: events.slice(1), ...newer },
      {
        jobId: "newer-batch",
      },
    );

    h.startWorkers();
    expect(await settled(h.ctx.queues.events, "newer-single")).toMatchObject({
      state: "completed",
    });
    expect(await settled(h.ctx.queues.events, "newer-batch")).toMatchObject({
      state: "completed",
    });
    const runs = await waitFor(
      "every customer's run completed",
      async () => {
        const rs = await runsOf(journeyId);
        return rs.length === 3 && rs.every((r) => r.status === "COMPLETED") && rs;
      },
      { progress: () => runsOf(journeyId) },
    );
    expect(new Set(runs.map((r) => r.customerId)).size).toBe(3);
    expect(sink.deliveries.map((d) => d.path)).toEqual(["/ordered", "/ordered", "/ordered"]);
    const processed = await h.db.prisma.event.count({
      where: { id: { in: events }, processedAt: { not: null } },
    });
    expect(processed).toBe(3);
  });

  it("a send job with unknown fields delivers its message, once", async () => {
    const { journeyId, versionId } = await h.publish("Manual", [
      { id: "t", type: "trigger.manual", next: "m" },
      hook("send"),
    ]);
    const customerId = await h.customer("ann");
    const run = await h.db.prisma.journeyRun.create({
      data: {
        workspaceId: h.workspaceId,
        journeyId,
        versionId,
        customerId,
        entryNumber: 1,
        currentStepId: "t",
      },
    });
    // The run's first job writes the message and queues its send job; the send job is replaced by
    // the same with a newer release's fields, under its id.
    expect(await processRunJob(h.ctx, { runId: run.id, seq: 0, input: { kind: "entered" } })).toBe(
      "applied",
    );
    const msg = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
    const sends = h.ctx.queues.sends.shardOfData({ messageId: msg.id });
    const jobId = `send-${msg.id}`;
    const queued = (await sends.getJob(jobId))!.data;
    expect(queued).toMatchObject({ messageId: msg.id });
    await sends.remove(jobId);
    await sends.add("send", { ...queued, ...NEWER }, { jobId });

    h.startWorkers();
    expect(await settled(h.ctx.queues.sends, jobId)).toMatchObject({ state: "completed" });
    await waitFor("the run completed", async () => {
      const r = await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: run.id } });
      return r.status === "COMPLETED";
    });
    expect((await h.db.prisma.message.findFirstOrThrow({ where: { id: msg.id } })).status).toBe(
      "SENT",
    );
    expect(sink.deliveries.map((d) => d.path)).toEqual(["/send"]);
  });

  it("a timer bucket job with unknown fields wakes its runs, and its continuations keep the fields", async () => {
    const { journeyId } = await h.publish("Reminder", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "hours" }, next: "a" },
      { id: "a", type: "action.attribute", data: { set: { reminded: true } }, next: "end" },
    ]);
    const N = 5;
    h.startWorkers();
    for (let i = 0; i < N; i++)
      await track(h.ctx, h.workspaceId, { userId: `w${i}`, event: "purchase" });
    const waiting = await waitFor(
      "every run waiting",
      async () => {
        const rows = await h.db.prisma.journeyRun.findMany({
          where: { journeyId, status: "WAITING" },
          select: { waitingUntil: true },
        });
        return rows.length === N && rows;
      },
      { progress: () => runsOf(journeyId) },
    );
    await h.workers!.close();
    h.workers = null;
    // The buckets this release scheduled are replaced by one a newer release queued, with a field
    // of its own; the clock moves to the end of the wait.
    await h.ctx.queues.timers.obliterate({ force: true });
    const due = waiting.map((r) => r.waitingUntil!.getTime());
    const bucket = { from: Math.min(...due) - 1, to: Math.max(...due), ...NEWER };
    ahead = bucket.to - Date.now() + 1000;
    await h.ctx.queues.timers.add("timers", bucket, { jobId: "newer-bucket" });

    h.startWorkers();
    expect(await settled(h.ctx.queues.timers, "newer-bucket")).toMatchObject({
      state: "completed",
    });
    await waitFor(
      "every run completed",
      async () =>
        (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) === N,
      { progress: () => runsOf(journeyId) },
    );
    // Pages of 2 over 5 runs: two continuation jobs, each with the newer release's fields.
    const continuations = (await h.ctx.queues.timers.getJobs(["completed", "failed"])).filter(
      (j) => j.id !== "newer-bucket",
    );
    expect(continuations).toHaveLength(2);
    for (const j of continuations) {
      expect(await j.getState()).toBe("completed");
      expect(j.data).toMatchObject({ from: bucket.from, to: bucket.to, ...NEWER });
      expect(j.data.after).toBeDefined();
    }
    const reminded = await h.db.prisma.customer.count({
      where: { workspaceId: h.workspaceId, attributes: { path: ["reminded"], equals: true } },
    });
    expect(reminded).toBe(N);
  });

  it("a job missing a required field or with a wrong type fails at once, is kept as failed, and says which field", async () => {
    // The workers' log, as an operator reads it (one JSON line per entry).
    const lines: string[] = [];
    h.ctx.log = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
    h.startWorkers();
    // Per job: its queue, id, data, and the field its failure names.
    const bad: [ShardedQueue<never>, string, unknown, RegExp][] = [
      [
        h.ctx.queues.events as never,
        "no-ids",
        { received: { from: 1, to: 2 }, ...NEWER },
        /eventId: /,
      ],
      [
        h.ctx.queues.events as never,
        "bad-range",
        { eventId: "e1", received: { from: "x", to: 2 } },
        /received\.from: /,
      ],
      [
        h.ctx.queues.events as never,
        "two-shapes",
        { eventId: "e1", eventIds: ["e2"] },
        /\(the whole job\): .*more than one/,
      ],
      [h.ctx.queues.events as never, "no-reason", { customerIds: ["c1"], ...NEWER }, /reason: /],
      [h.ctx.queues.timers as never, "no-from", { to: 5, ...NEWER }, /from: /],
      [h.ctx.queues.sends as never, "no-message", { createdAt: 5, ...NEWER }, /messageId: /],
      [h.ctx.queues.runs as never, "no-seq", { runId: "r1", input: { kind: "entered" } }, /seq: /],
    ];
    for (const [queue, jobId, data] of bad) await queue.add("bad", data as never, { jobId });
    for (const [queue, jobId, , field] of bad) {
      const end = await settled(queue, jobId);
      // Not retried through its attempts: failed on the first, with the reason and the field.
      expect(end, jobId).toMatchObject({ state: "failed", attemptsMade: 1 });
      expect(end.failedReason, jobId).toMatch(/^malformed [a-z ]+ job: /);
      expect(end.failedReason, jobId).toMatch(field);
      // Logged once, with the job's id and the same reason (the worker logs it once BullMQ has
      // stored the failure, so it may come just after the state).
      const logged = () =>
        lines
          .map((l) => JSON.parse(l) as { jobId?: string; err?: string; msg: string })
          .filter((l) => l.jobId === jobId);
      await waitFor(`the log line of ${jobId}`, () => Promise.resolve(logged().length > 0));
      expect(logged(), jobId).toEqual([
        expect.objectContaining({ err: end.failedReason, msg: expect.stringMatching(/refused/) }),
      ]);
    }
  });
});
