// Sending limits applied when a message is delivered (sends.ts): frequency caps across journeys
// (skip or delay, race-free for concurrent sends to one customer) and the workspace's messages
// per minute. Real Postgres, Redis and a local HTTP push gateway; only the clock is injected, and
// send jobs are processed by calling the handler (no workers) so each step is observable.
import { createProvider } from "@postpath/channels";
import type { Prisma } from "@postpath/db";
import type { JourneySettingsInput } from "@postpath/journey";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { processMaintenanceJob } from "./maintenance.ts";
import { startEnrolment } from "./operate.ts";
import { loadPlan } from "./plans.ts";
import { processRunJob } from "./runner.ts";
import { processSendJob } from "./sends.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";
import { startSink, type Sink } from "./testing/sink.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// Half past a minute, so "the next window" is visibly not "now + 60 s".
const T0 = Date.UTC(2030, 0, 7, 12, 0, 30);

let sink: Sink;
let h: EngineHarness;
let clock = T0;

beforeAll(async () => {
  sink = await startSink();
});
afterAll(async () => {
  await sink.close();
});
beforeEach(async () => {
  clock = T0;
  sink.deliveries.length = 0;
  sink.processed.clear();
  sink.setReply(() => ({ status: 200, body: { ok: true } }));
  h = await startEngineHarness({
    providers: {
      push: createProvider("push", { endpoint: `${sink.url}/push`, apiKey: "k", timeoutMs: 2000 }),
    },
    now: () => clock,
    workers: false,
  });
});
afterEach(async () => {
  await h.close();
});

async function setLimits(limits: Prisma.InputJsonObject) {
  await h.db.prisma.workspace.update({
    where: { id: h.workspaceId },
    data: { settings: { limits } },
  });
}

/** Publishes a journey "manual trigger → push", enrols the customers and runs them up to their
 * pending outbox message (the send job is left to the test). */
async function pendingPushes(name: string, externalIds: string[], settings?: JourneySettingsInput) {
  const { journeyId } = await h.publish(
    name,
    [
      { id: "t", type: "trigger.manual", next: "m" },
      { id: "m", type: "action.push", data: { title: "Hi", body: name }, next: "end" },
    ],
    settings,
  );
  const { enrolmentId } = await startEnrolment(h.ctx, {
    workspaceId: h.workspaceId,
    journeyId,
    criteria: { externalIds },
  });
  await processMaintenanceJob(h.ctx, { kind: "enrolment", enrolmentId });
  const runs = await h.db.prisma.journeyRun.findMany({ where: { journeyId } });
  expect(runs).toHaveLength(externalIds.length);
  for (const r of runs)
    expect(await processRunJob(h.ctx, { runId: r.id, seq: 0, input: { kind: "entered" } })).toBe(
      "applied",
    );
  const messages = await h.db.prisma.message.findMany({
    where: { runId: { in: runs.map((r) => r.id) } },
  });
  expect(messages.map((m) => m.status)).toEqual(externalIds.map(() => "PENDING"));
  return { journeyId, messages };
}

const send = (messageId: string) =>
  processSendJob(h.ctx, { messageId }, { made: 0, max: h.ctx.sendRetry.attempts });

async function traces(kind: string) {
  return h.db.prisma.runTrace.findMany({ where: { kind }, orderBy: { id: "asc" } });
}

describe("frequency caps at send time", () => {
  it("delay mode: a capped message waits until the counted one leaves the period, then the same message goes once", async () => {
    await h.customer("ann", { push_token: "tok-ann" });
    const a = await pendingPushes("A", ["ann"]);
    const b = await pendingPushes("B", ["ann"], {
      frequencyCap: {
        max: 1,
        period: { amount: 1, unit: "hours" },
        channels: ["push"],
        onCap: "delay",
      },
    });
    const mA = a.messages[0]!;
    const mB = b.messages[0]!;
    // Journey A has no cap of its own: its push goes. Journey B's cap counts it (across journeys).
    expect(await send(mA.id)).toBe("sent");
    clock = T0 + 10 * MINUTE;
    expect(await send(mB.id)).toEqual({ heldUntil: T0 + HOUR });
    const [delayed] = await traces("frequencyCap.delayed");
    expect(delayed?.runId).toBe(mB.runId);
    expect(delayed?.detail).toMatchObject({
      rule: "frequencyCap",
      source: "journey",
      journeyId: b.journeyId,
      channel: "push",
      max: 1,
      period: { amount: 1, unit: "hours" },
      onCap: "delay",
      counted: 1,
      until: new Date(T0 + HOUR).toISOString(),
    });
    // Not sent, not claimed: it does not count against anything while it waits.
    expect(await h.db.prisma.message.findFirstOrThrow({ where: { id: mB.id } })).toMatchObject({
      status: "PENDING",
      sentAt: null,
    });
    // A moment before the window opens it is still held; at the instant it opens it goes.
    clock = T0 + HOUR - 1;
    expect(await send(mB.id)).toEqual({ heldUntil: T0 + HOUR });
    clock = T0 + HOUR;
    expect(await send(mB.id)).toBe("sent");
    expect(await h.db.prisma.message.findFirstOrThrow({ where: { id: mB.id } })).toMatchObject({
      status: "SENT",
      sentAt: new Date(T0 + HOUR),
    });
    expect(sink.deliveries.map((d) => d.key)).toEqual([mA.idempotencyKey, mB.idempotencyKey]);
    expect(await traces("frequencyCap.skipped")).toHaveLength(0);
  });

  it("concurrent sends to one customer under a cap of 1: exactly one goes, the others are skipped with the rule", async () => {
    await setLimits({
      frequencyCap: { max: 1, period: { amount: 1, unit: "days" }, channels: ["push"] },
    });
    await h.customer("ann", { push_token: "tok-ann" });
    const ids: string[] = [];
    for (const name of ["A", "B", "C", "D", "E"])
      ids.push((await pendingPushes(name, ["ann"])).messages[0]!.id);
    // Open enough pooled connections first (and load the plans), so the five transactions really
    // run side by side instead of queueing for new connections: without the lock, all five go.
    await Promise.all(Array.from({ length: 10 }, () => h.db.query("SELECT pg_sleep(0.05)")));
    for (const id of ids) {
      const m = await h.db.prisma.message.findFirstOrThrow({ where: { id } });
      const run = await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: m.runId } });
      await loadPlan(h.ctx, run.versionId);
    }
    const outcomes = await Promise.all(ids.map((id) => send(id)));
    expect(outcomes.filter((o) => o === "sent")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "skipped")).toHaveLength(4);
    expect(sink.deliveries).toHaveLength(1);
    const rows = await h.db.prisma.message.findMany({ where: { id: { in: ids } } });
    expect(rows.filter((m) => m.status === "SENT")).toHaveLength(1);
    const skipped = rows.filter((m) => m.status === "SKIPPED");
    expect(skipped).toHaveLength(4);
    for (const m of skipped)
      expect(m.error).toBe("skipped by the workspace frequency cap: at most 1 per 1 day on push");
    const t = await traces("frequencyCap.skipped");
    expect(t).toHaveLength(4);
    expect(t[0]?.detail).toMatchObject({
      rule: "frequencyCap",
      source: "workspace",
      channel: "push",
      max: 1,
      onCap: "skip",
    });
    // Each skipped message fed its run a result, like a sent one: the runs carry on.
    const results = await h.ctx.queues.runs.getJobs(["waiting"]);
    expect(
      results.filter((j) => j.data.input.kind === "result").map((j) => j.data.input),
    ).toHaveLength(5);
  });
});

describe("workspace messages per minute", () => {
  it("a limit of 2 with 5 sends: 2 per window, the rest delayed to the next window; none dropped or duplicated", async () => {
    await setLimits({ maxPerMinute: 2 });
    const people = ["c1", "c2", "c3", "c4", "c5"];
    for (const p of people) await h.customer(p, { push_token: `tok-${p}` });
    const { messages } = await pendingPushes("R", people);
    const nextWindow = Math.floor(T0 / MINUTE) * MINUTE + MINUTE;

    // Window 1: all five at once (as five workers would): two go, three wait for window 2.
    let pending = messages.map((m) => m.id);
    let outcomes = await Promise.all(pending.map((id) => send(id)));
    expect(outcomes.filter((o) => o === "sent")).toHaveLength(2);
    expect(outcomes.filter((o) => typeof o === "object")).toEqual([
      { heldUntil: nextWindow },
      { heldUntil: nextWindow },
      { heldUntil: nextWindow },
    ]);
    const delayed = await traces("rateLimit.delayed");
    expect(delayed).toHaveLength(3);
    expect(delayed[0]?.detail).toMatchObject({
      rule: "rateLimit",
      source: "workspace",
      maxPerMinute: 2,
      channel: "push",
      until: new Date(nextWindow).toISOString(),
    });
    // Still inside window 1: nothing more goes.
    pending = pending.filter((_, i) => outcomes[i] !== "sent");
    clock = nextWindow - 1;
    expect(await send(pending[0]!)).toEqual({ heldUntil: nextWindow });

    // Window 2: two of the three; window 3: the last.
    clock = nextWindow;
    outcomes = await Promise.all(pending.map((id) => send(id)));
    expect(outcomes.filter((o) => o === "sent")).toHaveLength(2);
    expect(outcomes.filter((o) => typeof o === "object")).toEqual([
      { heldUntil: nextWindow + MINUTE },
    ]);
    pending = pending.filter((_, i) => outcomes[i] !== "sent");
    clock = nextWindow + MINUTE;
    expect(await send(pending[0]!)).toBe("sent");

    const rows = await h.db.prisma.message.findMany({
      where: { id: { in: messages.map((m) => m.id) } },
    });
    expect(rows.map((m) => m.status)).toEqual(rows.map(() => "SENT"));
    expect(sink.deliveries).toHaveLength(5);
    expect(new Set(sink.deliveries.map((d) => d.key))).toEqual(
      new Set(messages.map((m) => m.idempotencyKey)),
    );
  });
});
