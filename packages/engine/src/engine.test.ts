// The engine on real services (Postgres, Redis, a local HTTP receiver): every step kind executed
// by the workers, counters and traces, waits for events, caps, pause/resume/stop, versions in
// flight, enrolment from segments, dates and bulk, and bad input that must not crash a worker.
import { createProvider } from "@postpath/channels";
import type { StepSpec } from "@postpath/journey";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { enrolMany } from "./enrol.ts";
import { processEventJob } from "./events.ts";
import { track } from "./ingest.ts";
import { processMaintenanceJob, runDateTriggers } from "./maintenance.ts";
import {
  customerRuns,
  enrolmentProgress,
  listDeadLetters,
  nodeCounts,
  pauseJourney,
  replayMessage,
  resumeJourney,
  startEnrolment,
  stopJourney,
} from "./operate.ts";
import { visitPurl } from "./visits.ts";
import { processRunJob } from "./runner.ts";
import { processSendJob } from "./sends.ts";
import { startSink, type Sink } from "./testing/sink.ts";
import { sleep, startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

let sink: Sink;
let h: EngineHarness;

beforeAll(async () => {
  sink = await startSink();
});
afterAll(async () => {
  await sink.close();
});
beforeEach(async () => {
  sink.deliveries.length = 0;
  sink.processed.clear();
  sink.setReply(() => ({ status: 200, body: { ok: true } }));
  h = await startEngineHarness({
    providers: { webhook: createProvider("webhook", { secret: "test-secret", timeoutMs: 1000 }) },
  });
});
afterEach(async () => {
  await h.close();
});

const hook = (
  id: string,
  body: string,
  next?: StepSpec["next"],
  extra: Record<string, unknown> = {},
): StepSpec => ({
  id,
  type: "action.webhook",
  data: { url: `${sink.url}/${id}`, body, ...extra },
  next: next ?? "end",
});

async function runOf(journeyId: string, customerId: string) {
  return h.db.prisma.journeyRun.findFirst({
    where: { journeyId, customerId },
    orderBy: { entryNumber: "desc" },
  });
}
async function ended(journeyId: string, customerId: string) {
  return waitFor(`run of ${customerId} to end`, async () => {
    const r = await runOf(journeyId, customerId);
    return r && ["COMPLETED", "EXITED", "FAILED"].includes(r.status) ? r : null;
  });
}
async function kinds(runId: string) {
  return (await h.db.prisma.runTrace.findMany({ where: { runId }, orderBy: { id: "asc" } })).map(
    (t) => t.kind,
  );
}

describe("step execution", () => {
  it("runs coupon (pool) → PURL → split → attribute → tag → wait → webhook with outputs, once, with counters", async () => {
    const pool = await h.db.prisma.couponPool.create({
      data: {
        workspaceId: h.workspaceId,
        name: "VIP",
        codes: { create: [{ code: "VIP-AAA" }, { code: "VIP-BBB" }] },
      },
    });
    const { journeyId, versionId } = await h.publish("all steps", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "c" },
      {
        id: "c",
        type: "action.coupon",
        data: { source: { kind: "pool", pool: "VIP" }, value: { kind: "percent", amount: 20 } },
        next: "p",
      },
      {
        id: "p",
        type: "action.purl",
        data: { page: "welcome", params: { name: "{{ first_name }}" } },
        next: "s",
      },
      {
        id: "s",
        type: "split.condition",
        data: { conditions: [{ property: "event.tier", op: "eq", value: "gold" }] },
        next: { yes: "a", no: "x" },
      },
      { id: "a", type: "action.attribute", data: { set: { vip: true } }, next: "g" },
      { id: "g", type: "action.tag", data: { add: ["vip"] }, next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "seconds" }, next: "m" },
      hook("m", '{"code":"{{ coupon.code }}","url":"{{ purl.url }}"}', "x"),
      { id: "x", type: "flow.exit" },
    ]);
    const ann = await h.customer("ann", { first_name: "Ann", email: "ann@example.com" });
    const bob = await h.customer("bob", { first_name: "Bob" });
    await track(h.ctx, h.workspaceId, {
      userId: "ann",
      event: "purchase",
      properties: { tier: "gold" },
    });
    await track(h.ctx, h.workspaceId, {
      userId: "bob",
      event: "purchase",
      properties: { tier: "silver" },
    });

    const annRun = await ended(journeyId, ann);
    const bobRun = await ended(journeyId, bob);
    expect(annRun.status).toBe("COMPLETED");
    expect(sink.deliveries).toHaveLength(1);
    const body = JSON.parse(sink.deliveries[0]!.body) as { code: string; url: string };
    expect(["VIP-AAA", "VIP-BBB"]).toContain(body.code);
    expect(body.url).toMatch(/^http:\/\/pp\.test\/p\/[A-Za-z0-9_-]{22}$/);
    // One code per run step, claimed by the coupon message; Bob got the other one.
    const claimed = await h.db.prisma.couponCode.findMany({
      where: { poolId: pool.id, messageId: { not: null } },
    });
    expect(claimed).toHaveLength(2);
    const purl = await h.db.prisma.purl.findFirstOrThrow({ where: { runId: annRun.id } });
    expect(purl.params).toEqual({ name: "Ann" });
    expect(body.url.endsWith(purl.token)).toBe(true);
    // Opening the PURL counts the visit and records an event for the customer.
    expect(await visitPurl(h.ctx, purl.token)).toMatchObject({
      page: "welcome",
      params: { name: "Ann" },
      customer: { externalId: "ann" },
    });
    expect(await visitPurl(h.ctx, "nope")).toBeNull();
    expect(
      (await h.db.prisma.purl.findUniqueOrThrow({ where: { token: purl.token } })).visits,
    ).toBe(1);
    expect(
      await h.db.prisma.event.count({ where: { customerId: ann, name: "purl_visited" } }),
    ).toBe(1);

    const annRow = await h.db.prisma.customer.findUniqueOrThrow({ where: { id: ann } });
    expect(annRow.attributes).toMatchObject({ vip: true });
    expect(annRow.tags).toEqual(["vip"]);
    const bobRow = await h.db.prisma.customer.findUniqueOrThrow({ where: { id: bob } });
    expect(bobRow.tags).toEqual([]);

    const annKinds = await kinds(annRun.id);
    expect(annKinds).toEqual(
      expect.arrayContaining([
        "entered",
        "coupon.succeeded",
        "purl.succeeded",
        "split.branch",
        "message.sent",
        "run.completed",
      ]),
    );
    expect(
      await h.db.prisma.message.count({ where: { runId: bobRun.id, channel: "webhook" } }),
    ).toBe(0);

    const counts = await nodeCounts(h.ctx, h.workspaceId, journeyId, versionId);
    expect(counts.t).toMatchObject({ entered: 2, completed: 2 });
    expect(counts.c).toMatchObject({ entered: 2, completed: 2, sent: 2 });
    expect(counts.s).toMatchObject({ entered: 2, completed: 2 });
    expect(counts.a).toMatchObject({ entered: 1, completed: 1 });
    expect(counts.m).toMatchObject({ entered: 1, completed: 1, sent: 1, failed: 0, waiting: 0 });
    expect(counts.x).toMatchObject({ entered: 2, completed: 2 });

    const runs = await customerRuns(h.ctx, h.workspaceId, journeyId, "ann@example.com");
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ runId: annRun.id, status: "COMPLETED", versionNumber: 1 });
    expect(runs[0]!.traces.map((t) => t.kind)).toEqual(annKinds);
  });

  it("wait-for-event: a correlated event wakes the parked run; another customer times out; the loser of the race is a no-op", async () => {
    const { journeyId } = await h.publish("registration", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      {
        id: "w",
        type: "wait.event",
        data: {
          event: "registered",
          timeout: { amount: 2, unit: "seconds" },
          correlate: { property: "serial", triggerProperty: "serial" },
        },
        next: { arrived: "yes", timedOut: "no" },
      },
      hook("yes", '{"branch":"arrived","serial":"{{ registered.serial }}"}'),
      hook("no", '{"branch":"timedOut"}'),
    ]);
    const ann = await h.customer("ann");
    const bob = await h.customer("bob");
    await track(h.ctx, h.workspaceId, {
      userId: "ann",
      event: "purchase",
      properties: { serial: "S1" },
    });
    await track(h.ctx, h.workspaceId, {
      userId: "bob",
      event: "purchase",
      properties: { serial: "S2" },
    });
    await waitFor(
      "ann parked",
      async () => (await runOf(journeyId, ann))?.parkedEvent === "registered",
    );
    // Wrong serial: ignored. Right serial: wakes.
    await track(h.ctx, h.workspaceId, {
      userId: "ann",
      event: "registered",
      properties: { serial: "S9" },
    });
    await track(h.ctx, h.workspaceId, {
      userId: "ann",
      event: "registered",
      properties: { serial: "S1" },
    });
    const annRun = await ended(journeyId, ann);
    const bobRun = await ended(journeyId, bob);
    expect(annRun.status).toBe("COMPLETED");
    expect(bobRun.status).toBe("COMPLETED");
    const bodies = sink.deliveries.map(
      (d) => JSON.parse(d.body) as { branch: string; serial?: string },
    );
    expect(bodies).toHaveLength(2);
    expect(bodies).toContainEqual({ branch: "arrived", serial: "S1" });
    expect(bodies).toContainEqual({ branch: "timedOut" });
    // Ann's timeout timer fires later against a moved-on run: nothing happens.
    await sleep(2500);
    expect(sink.deliveries).toHaveLength(2);
    expect((await kinds(annRun.id)).filter((k) => k.startsWith("event."))).toEqual([
      "event.parked",
      "event.arrived",
    ]);
  });

  it("frequency cap across journeys: the second email-like send in the window is skipped with the rule in the trace", async () => {
    const settings = {
      frequencyCap: {
        max: 1,
        period: { amount: 1, unit: "days" as const },
        channels: ["push" as const],
      },
    };
    // The cap counts a channel across journeys: two journeys each send one push.
    await h.db.prisma.workspace.update({
      where: { id: h.workspaceId },
      data: {
        settings: {
          limits: {
            frequencyCap: { max: 1, period: { amount: 1, unit: "days" }, channels: ["push"] },
          },
        },
      },
    });
    const push = {
      id: "m",
      type: "action.push" as const,
      data: { title: "Hi", body: "There" },
      next: "end",
    };
    const a = await h.publish(
      "A",
      [{ id: "t", type: "trigger.event", data: { event: "a" }, next: "m" }, push],
      settings,
    );
    const b = await h.publish("B", [
      { id: "t", type: "trigger.event", data: { event: "b" }, next: "m" },
      push,
    ]);
    const ann = await h.customer("ann");
    await h.db.prisma.customer.update({
      where: { id: ann },
      data: { attributes: { push_token: "tok" } },
    });
    // No push provider is configured: the first push fails (not capped), the second is capped.
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "a" });
    const first = await ended(a.journeyId, ann);
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "b" });
    const second = await ended(b.journeyId, ann);
    const m1 = await h.db.prisma.message.findFirstOrThrow({ where: { runId: first.id } });
    const m2 = await h.db.prisma.message.findFirstOrThrow({ where: { runId: second.id } });
    expect(m1.status).toBe("FAILED");
    expect(m2.status).toBe("FAILED");
    // FAILED messages don't count toward the cap; now one that was sent (an hour ago) does.
    await h.db.prisma.message.updateMany({
      where: { id: m1.id },
      data: { status: "SENT", sentAt: new Date(Date.now() - 3600_000) },
    });
    await h.db.prisma.journey.update({ where: { id: b.journeyId }, data: { status: "LIVE" } });
    const c = await h.publish("C", [
      { id: "t", type: "trigger.event", data: { event: "c" }, next: "m" },
      push,
    ]);
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "c" });
    const third = await ended(c.journeyId, ann);
    const m3 = await h.db.prisma.message.findFirstOrThrow({ where: { runId: third.id } });
    expect(m3.status).toBe("SKIPPED");
    expect(m3.error).toMatch(/workspace frequency cap: at most 1 per 1 day on push/);
    const trace = await h.db.prisma.runTrace.findFirstOrThrow({
      where: { runId: third.id, kind: "frequencyCap.skipped" },
    });
    expect(trace.detail).toMatchObject({
      rule: "frequencyCap",
      source: "workspace",
      channel: "push",
      max: 1,
      period: { amount: 1, unit: "days" },
      onCap: "skip",
      counted: 1,
    });
    expect(third.status).toBe("COMPLETED");
    // The skipped send counts as done: the run continued past the step to its end.
    expect(await kinds(third.id)).toEqual(
      expect.arrayContaining(["frequencyCap.skipped", "send.succeeded", "run.completed"]),
    );
  });
});

describe("workspace quiet hours", () => {
  it("hold a send until the window opens in the recipient's time zone, with the rule in the trace", async () => {
    await h.workers?.close();
    h.workers = null;
    const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
    const now = Date.now();
    await h.db.prisma.workspace.update({
      where: { id: h.workspaceId },
      data: {
        settings: {
          limits: {
            quietHours: {
              start: hhmm(now - 3600_000),
              end: hhmm(now + 3600_000),
              mode: "hold",
              channels: ["push"],
            },
          },
        },
      },
    });
    const { journeyId } = await h.publish("quiet", [
      { id: "t", type: "trigger.manual", next: "m" },
      { id: "m", type: "action.push", data: { title: "Hi", body: "There" }, next: "end" },
    ]);
    await h.customer("ann", { push_token: "tok-1", timezone: "UTC" });
    await startEnrolment(h.ctx, {
      workspaceId: h.workspaceId,
      journeyId,
      criteria: { externalIds: ["ann"] },
    }).then(({ enrolmentId }) => processMaintenanceJob(h.ctx, { kind: "enrolment", enrolmentId }));
    const r = await h.db.prisma.journeyRun.findFirstOrThrow({ where: { journeyId } });
    expect(await processRunJob(h.ctx, { runId: r.id, seq: 0, input: { kind: "entered" } })).toBe(
      "applied",
    );
    const msg = await h.db.prisma.message.findFirstOrThrow({ where: { runId: r.id } });
    expect(msg.recipient).toBe("tok-1");
    const out = await processSendJob(h.ctx, { messageId: msg.id }, { made: 0, max: 3 });
    expect(out).toEqual({ heldUntil: expect.any(Number) as number });
    const until = (out as { heldUntil: number }).heldUntil;
    expect(until).toBeGreaterThan(now);
    expect(until).toBeLessThanOrEqual(now + 3600_000);
    expect(hhmm(until)).toBe(hhmm(now + 3600_000));
    const trace = await h.db.prisma.runTrace.findFirstOrThrow({
      where: { runId: r.id, kind: "quietHours.held" },
    });
    expect(trace.detail).toMatchObject({
      rule: "quietHours",
      source: "workspace",
      channel: "push",
      timeZone: "UTC",
    });
    expect((await h.db.prisma.message.findFirstOrThrow({ where: { id: msg.id } })).status).toBe(
      "PENDING",
    );
  });
});

describe("operating journeys", () => {
  it("pause holds runs at their next step and blocks entries; resume continues; stop exits in-flight runs with a trace", async () => {
    const { journeyId } = await h.publish("pausable", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "seconds" }, next: "m" },
      hook("m", '{"n":1}', "w2"),
      { id: "w2", type: "wait.duration", data: { amount: 1, unit: "hours" }, next: "end" },
    ]);
    const ann = await h.customer("ann");
    const bob = await h.customer("bob");
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase" });
    await waitFor("ann waiting", async () => (await runOf(journeyId, ann))?.status === "WAITING");
    expect(await pauseJourney(h.ctx, h.workspaceId, journeyId)).toEqual({ status: "PAUSED" });
    await track(h.ctx, h.workspaceId, { userId: "bob", event: "purchase" });
    await sleep(2000);
    expect(sink.deliveries).toHaveLength(0); // held at the send
    expect(await runOf(journeyId, bob)).toBeNull(); // no new entries while paused
    expect(await resumeJourney(h.ctx, h.workspaceId, journeyId)).toEqual({ status: "LIVE" });
    await waitFor("the held send", () => Promise.resolve(sink.deliveries.length === 1));
    await waitFor(
      "ann on the long wait",
      async () => (await runOf(journeyId, ann))?.currentStepId === "w2",
    );
    expect((await nodeCounts(h.ctx, h.workspaceId, journeyId)).w2).toMatchObject({ waiting: 1 });

    const stopped = await stopJourney(h.ctx, h.workspaceId, journeyId);
    expect(stopped).toMatchObject({ status: "STOPPED", exited: 1 });
    const run = await runOf(journeyId, ann);
    expect(run?.status).toBe("EXITED");
    const last = await h.db.prisma.runTrace.findFirstOrThrow({
      where: { runId: run!.id },
      orderBy: { id: "desc" },
    });
    expect(last).toMatchObject({
      kind: "run.exited",
      stepId: "w2",
      detail: { reason: "journey stopped" },
    });
    await expect(resumeJourney(h.ctx, h.workspaceId, journeyId)).rejects.toThrow(
      /Only a paused journey/,
    );
  });

  it("versions in flight: a run finishes on its own version; new entries take the new one", async () => {
    const v1 = await h.publish("versions", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "seconds" }, next: "m" },
      hook("m", '{"v":1}'),
    ]);
    const ann = await h.customer("ann");
    const bob = await h.customer("bob");
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase" });
    await waitFor(
      "ann waiting",
      async () => (await runOf(v1.journeyId, ann))?.status === "WAITING",
    );
    const v2 = await h.publish(
      "versions",
      [
        { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m" },
        hook("m", '{"v":2}'),
      ],
      {},
      v1.journeyId,
    );
    await track(h.ctx, h.workspaceId, { userId: "bob", event: "purchase" });
    const a = await ended(v1.journeyId, ann);
    const b = await ended(v1.journeyId, bob);
    expect(a.versionId).toBe(v1.versionId);
    expect(b.versionId).toBe(v2.versionId);
    expect(
      sink.deliveries
        .map((d) => JSON.parse(d.body) as unknown)
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    ).toEqual([{ v: 1 }, { v: 2 }]);
  });
});

describe("enrolment", () => {
  it("segment entry on identify (an edge, not a level), with entry rules", async () => {
    const { journeyId } = await h.publish(
      "big spenders",
      [
        {
          id: "t",
          type: "trigger.segment",
          data: { conditions: [{ property: "total_spent", op: "gte", value: 100 }] },
          next: "m",
        },
        hook("m", '{"hi":"{{ customer.externalId }}"}'),
      ],
      { entry: { mode: "afterExit" } },
    );
    const ann = await h.customer("ann", { total_spent: 50 });
    await sleep(500);
    expect(await runOf(journeyId, ann)).toBeNull();
    await h.customer("ann", { total_spent: 150 });
    await ended(journeyId, ann);
    await h.customer("ann", { total_spent: 200 }); // still inside: not a new entry
    await sleep(800);
    expect(await h.db.prisma.journeyRun.count({ where: { journeyId } })).toBe(1);
    await h.customer("ann", { total_spent: 10 }); // leaves
    await sleep(300);
    await h.customer("ann", { total_spent: 300 }); // enters again (afterExit allows it)
    await waitFor(
      "second entry",
      async () =>
        (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) === 2,
    );
    expect(sink.deliveries).toHaveLength(2);
  });

  it("date trigger: the scheduler enrols customers whose date is due in their time zone, once per occurrence", async () => {
    const { journeyId } = await h.publish("anniversary", [
      {
        id: "t",
        type: "trigger.date",
        data: { attribute: "registered_at", at: "00:00", recurrence: "once" },
        next: "m",
      },
      hook("m", '{"hi":"{{ customer.externalId }}"}'),
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const ann = await h.customer("ann", { registered_at: today, timezone: "UTC" });
    const bob = await h.customer("bob", { registered_at: "2099-01-01", timezone: "UTC" });
    await h.customer("cyd", {});
    expect((await runDateTriggers(h.ctx)).enrolled).toBe(1);
    expect((await runDateTriggers(h.ctx)).enrolled).toBe(0);
    await ended(journeyId, ann);
    expect(await runOf(journeyId, bob)).toBeNull();
    expect(sink.deliveries).toHaveLength(1);
    expect(JSON.parse(sink.deliveries[0]!.body)).toEqual({ hi: "ann" });
    const run = await runOf(journeyId, ann);
    expect(run?.triggerEventId).toBe(`date-${Date.parse(`${today}T00:00:00.000Z`)}`);
  });

  it("bulk enrolment by segment in batches, with progress, entry rules respected", async () => {
    const { journeyId } = await h.publish("manual", [
      { id: "t", type: "trigger.manual", next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const N = 2500;
    await h.db.prisma.customer.createMany({
      data: Array.from({ length: N }, (_, i) => ({
        workspaceId: h.workspaceId,
        externalId: `c${i}`,
        attributes: { plan: i % 2 ? "pro" : "free" },
      })),
    });
    const { enrolmentId, total } = await startEnrolment(h.ctx, {
      workspaceId: h.workspaceId,
      journeyId,
      criteria: { segment: { conditions: [{ property: "plan", op: "eq", value: "pro" }] } },
    });
    expect(total).toBe(N);
    const p = await waitFor(
      "enrolment done",
      async () => {
        const e = await enrolmentProgress(h.ctx, h.workspaceId, enrolmentId);
        return e.status === "DONE" ? e : null;
      },
      60_000,
    );
    expect(p).toMatchObject({ done: N, total: N, enrolled: N / 2, skipped: 0 });
    await waitFor(
      "all runs exited",
      async () => {
        return (
          (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) ===
          N / 2
        );
      },
      60_000,
    );
    // Again, by id: "once" means the 2 already enrolled are skipped, the 1 new one enters.
    const again = await startEnrolment(h.ctx, {
      workspaceId: h.workspaceId,
      journeyId,
      criteria: { externalIds: ["c1", "c3", "c0"] },
    });
    const p2 = await waitFor("second enrolment", async () => {
      const e = await enrolmentProgress(h.ctx, h.workspaceId, again.enrolmentId);
      return e.status === "DONE" ? e : null;
    });
    expect(p2).toMatchObject({ done: 3, total: 3, enrolled: 1, skipped: 2 });

    // A segment that reads the profile (`customer.*`) as well as attributes: c7, c17, … c2497.
    const profile = await h.publish("manual-profile", [
      { id: "t", type: "trigger.manual", next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const byProfile = await startEnrolment(h.ctx, {
      workspaceId: h.workspaceId,
      journeyId: profile.journeyId,
      criteria: {
        segment: {
          conditions: [
            { property: "customer.externalId", op: "endsWith", value: "7" },
            { property: "plan", op: "eq", value: "pro" },
          ],
        },
      },
    });
    const p3 = await waitFor("profile segment enrolment", async () => {
      const e = await enrolmentProgress(h.ctx, h.workspaceId, byProfile.enrolmentId);
      return e.status === "DONE" ? e : null;
    });
    expect(p3).toMatchObject({ done: N, enrolled: N / 10, skipped: 0 });
    const enrolled = await h.db.prisma.journeyRun.findMany({
      where: { journeyId: profile.journeyId },
      select: { customerId: true },
    });
    const externalIds = await h.db.prisma.customer.findMany({
      where: { id: { in: enrolled.map((r) => r.customerId) } },
      select: { externalId: true },
    });
    expect(externalIds.every((c) => c.externalId.endsWith("7"))).toBe(true);
  }, 120_000);
  it("bulk enrolment inserts entry 1 optimistically and falls back to the entry rules for those with history; a re-run batch adds nothing", async () => {
    const { journeyId, versionId } = await h.publish(
      "again",
      [
        { id: "t", type: "trigger.manual", next: "x" },
        { id: "x", type: "flow.exit" },
      ],
      { entry: { mode: "afterExit" } },
    );
    const ann = await h.customer("ann");
    const bob = await h.customer("bob");
    const enrolBatch = (eventId: string, customerIds: string[]) =>
      enrolMany(h.ctx, {
        workspaceId: h.workspaceId,
        journeyId,
        versionId,
        customerIds,
        trigger: { eventId, name: "enrolled", properties: {}, timestamp: 1 },
      });
    expect(await enrolBatch("first", [ann])).toEqual({ enrolled: 1, skipped: 0 });
    await ended(journeyId, ann);
    // ann has exited (afterExit lets her in again, as entry 2); bob is new (entry 1).
    expect(await enrolBatch("second", [ann, bob])).toEqual({ enrolled: 2, skipped: 0 });
    // The same batch again (a retried enrolment job): nothing new, nothing counted as skipped.
    expect(await enrolBatch("second", [ann, bob])).toEqual({ enrolled: 0, skipped: 0 });
    await ended(journeyId, bob);
    const runs = await h.db.prisma.journeyRun.findMany({
      where: { journeyId },
      select: { customerId: true, entryNumber: true, triggerEventId: true },
    });
    expect(runs).toHaveLength(3);
    expect(runs).toEqual(
      expect.arrayContaining([
        { customerId: ann, entryNumber: 1, triggerEventId: "first" },
        { customerId: ann, entryNumber: 2, triggerEventId: "second" },
        { customerId: bob, entryNumber: 1, triggerEventId: "second" },
      ]),
    );
  });

  it("a bulk-enrolled run stores no profile: its first step renders the trigger's properties and the customer as they are when it starts", async () => {
    const { journeyId, versionId } = await h.publish("lazy", [
      { id: "t", type: "trigger.manual", next: "m" },
      hook("m", '{"plan":"{{ customer.plan }}","source":"{{ event.source }}"}'),
    ]);
    const ann = await h.customer("ann", { plan: "free" });
    // Paused, so the entry job holds the run before its first step.
    await pauseJourney(h.ctx, h.workspaceId, journeyId);
    const res = await enrolMany(h.ctx, {
      workspaceId: h.workspaceId,
      journeyId,
      versionId,
      customerIds: [ann],
      trigger: {
        eventId: "import-1",
        name: "enrolled",
        properties: { source: "import" },
        timestamp: 1,
      },
    });
    expect(res).toEqual({ enrolled: 1, skipped: 0 });
    const row = await runOf(journeyId, ann);
    expect(row).toMatchObject({
      state: null,
      trigger: { name: "enrolled", properties: { source: "import" }, timestamp: 1 },
      triggerEventId: "import-1",
    });
    await h.customer("ann", { plan: "pro" });
    await resumeJourney(h.ctx, h.workspaceId, journeyId);
    await ended(journeyId, ann);
    expect(sink.deliveries.map((d) => JSON.parse(d.body) as unknown)).toEqual([
      { plan: "pro", source: "import" },
    ]);
    const state = (await runOf(journeyId, ann))!.state as { customer: { attributes: unknown } };
    expect(state.customer.attributes).toEqual({ plan: "pro" });
  });
});

describe("worker concurrency", () => {
  it("runs take their own concurrency; events and sends keep the common one", async () => {
    await h.workers?.close();
    const w = h.startWorkers({ concurrency: 3, runConcurrency: 7 });
    expect(Object.fromEntries(w.workers.map((x) => [x.name, x.concurrency]))).toEqual({
      events: 3,
      runs: 7,
      sends: 3,
      timers: 4,
      jobs: 1,
    });
    await w.close();
    h.workers = null;
  });
});

describe("bad input never crashes a worker", () => {
  it("malformed payloads are refused; unknown ids are logged and ignored; a run whose version or customer is gone fails with a trace", async () => {
    await h.workers?.close();
    h.workers = null;
    await expect(processRunJob(h.ctx, { runId: 1 })).rejects.toThrow(/malformed run job/);
    await expect(processEventJob(h.ctx, { nope: true })).rejects.toThrow(/malformed event job/);
    await expect(processSendJob(h.ctx, "garbage", { made: 0, max: 1 })).rejects.toThrow(
      /malformed send job/,
    );
    expect(
      await processRunJob(h.ctx, { runId: "r-missing", seq: 0, input: { kind: "entered" } }),
    ).toBe("missing");
    expect(await processEventJob(h.ctx, { eventId: "ev-missing" })).toEqual({
      enrolled: 0,
      delivered: 0,
    });
    expect(await processEventJob(h.ctx, { customerId: "c-missing", reason: "identify" })).toEqual({
      enrolled: 0,
      delivered: 0,
    });
    expect(await processSendJob(h.ctx, { messageId: "m-missing" }, { made: 0, max: 1 })).toBe(
      "missing",
    );

    // A run whose stored plan is unreadable fails with a trace; its version deleted: ignored.
    const { journeyId, versionId } = await h.publish("broken", [
      { id: "t", type: "trigger.manual", next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    const ann = await h.customer("ann");
    const run = await h.db.prisma.journeyRun.create({
      data: {
        id: "r-broken",
        workspaceId: h.workspaceId,
        journeyId,
        versionId,
        customerId: ann,
        entryNumber: 1,
        state: {},
        currentStepId: "t",
      },
    });
    await h.db.prisma.journeyVersion.update({
      where: { id: versionId },
      data: { plan: { garbage: true } },
    });
    const v2 = await h.publish("broken2", [
      { id: "t", type: "trigger.manual", next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    await h.db.prisma.journeyRun.create({
      data: {
        id: "r-broken2",
        workspaceId: h.workspaceId,
        journeyId: v2.journeyId,
        versionId: v2.versionId,
        customerId: ann,
        entryNumber: 1,
        state: { nonsense: 1 },
        currentStepId: "t",
      },
    });
    expect(await processRunJob(h.ctx, { runId: run.id, seq: 0, input: { kind: "entered" } })).toBe(
      "applied",
    );
    const failed = await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(failed.status).toBe("FAILED");
    expect(await kinds(run.id)).toEqual(["error"]);
    // A run state that is not a RunState: the run fails with a trace, the worker lives on.
    expect(
      await processRunJob(h.ctx, { runId: "r-broken2", seq: 0, input: { kind: "entered" } }),
    ).toBe("applied");
    expect(
      (await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: "r-broken2" } })).status,
    ).toBe("FAILED");
    // Runs have no foreign keys: a run whose version or customer was deleted fails with a trace
    // naming what is gone, and the worker lives on.
    const orphan = async (id: string, customerId: string) => {
      const v = await h.publish(id, [
        { id: "t", type: "trigger.manual", next: "x" },
        { id: "x", type: "flow.exit" },
      ]);
      await h.db.prisma.journeyRun.create({
        data: {
          id,
          workspaceId: h.workspaceId,
          journeyId: v.journeyId,
          versionId: v.versionId,
          customerId,
          entryNumber: 1,
          currentStepId: "t",
        },
      });
      return v;
    };
    const gone = await orphan("r-no-version", ann);
    await h.db.prisma.journeyVersion.delete({ where: { id: gone.versionId } });
    await orphan("r-no-customer", "c-deleted");
    for (const runId of ["r-no-version", "r-no-customer"])
      expect(await processRunJob(h.ctx, { runId, seq: 0, input: { kind: "entered" } })).toBe(
        "applied",
      );
    for (const [id, reason] of [
      ["r-no-customer", /customer is gone/],
      ["r-no-version", /no longer exists/],
    ] as const) {
      const r = await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id } });
      expect(r.status).toBe("FAILED");
      const traces = await h.db.prisma.runTrace.findMany({ where: { runId: id } });
      expect(traces.map((t) => t.kind)).toEqual(["error"]);
      expect(JSON.stringify(traces[0]!.detail)).toMatch(reason);
    }
  });
});

describe("dead letters", () => {
  it("a retryable failure exhausts retries, takes the error branch, lands in the dead-letter list, and replays with the same key", async () => {
    sink.setReply(() => ({ status: 503, body: { error: "down" } }));
    const { journeyId } = await h.publish("flaky", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m" },
      hook("m", '{"n":1}', { next: "ok", error: "bad" }, { onError: "errorBranch" }),
      { id: "ok", type: "flow.exit" },
      { id: "bad", type: "action.tag", data: { add: ["webhook-failed"] }, next: "end" },
    ]);
    await h.db.prisma.$executeRaw`SELECT 1`;
    const ann = await h.customer("ann");
    // The harness retries a send 3 times, from 100 ms.
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase" });
    const run = await ended(journeyId, ann);
    expect(run.status).toBe("COMPLETED");
    expect((await h.db.prisma.customer.findUniqueOrThrow({ where: { id: ann } })).tags).toEqual([
      "webhook-failed",
    ]);
    expect(sink.deliveries).toHaveLength(3);
    expect(new Set(sink.deliveries.map((d) => d.key)).size).toBe(1);
    const t = await kinds(run.id);
    expect(t.filter((k) => k === "message.retry")).toHaveLength(2);
    expect(t).toContain("message.failed");
    expect(t).toContain("send.failed");
    const dead = await listDeadLetters(h.ctx, { workspaceId: h.workspaceId });
    expect(dead.items).toHaveLength(1);
    expect(dead.items[0]).toMatchObject({
      journeyId,
      runId: run.id,
      stepId: "m",
      channel: "webhook",
      status: "DEAD",
      attempts: 3,
      customer: "ann",
    });
    expect((await nodeCounts(h.ctx, h.workspaceId, journeyId)).m).toMatchObject({
      failed: 1,
      sent: 0,
    });

    sink.setReply(() => ({ status: 200 }));
    await replayMessage(h.ctx, dead.items[0]!.messageId, { workspaceId: h.workspaceId });
    await waitFor(
      "replayed send",
      async () =>
        (await h.db.prisma.message.findFirstOrThrow({ where: { id: dead.items[0]!.messageId } }))
          .status === "SENT",
    );
    expect(sink.processed.size).toBe(1);
    expect([...sink.processed.keys()][0]).toBe(sink.deliveries[0]!.key);
    expect((await listDeadLetters(h.ctx, { workspaceId: h.workspaceId })).items).toHaveLength(0);
    await expect(replayMessage(h.ctx, dead.items[0]!.messageId)).rejects.toThrow(
      /Only dead, failed or uncertain/,
    );
  });
});
