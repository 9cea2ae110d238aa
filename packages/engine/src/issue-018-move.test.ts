// Issue 18, item 3: moving the customers in flight to a new version, on Postgres and Redis with the
// workers running — each mapping rule, the trace line, the timers, analytics per version.
import { createProvider } from "@postpath/channels";
import type { MigrationChoices, StepSpec } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { runMigration } from "./move.ts";
import { ensureFollowUps } from "./runner.ts";
import { runProgress, startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { moveRuns } from "./testing/move.ts";
import { startSink, type Sink } from "./testing/sink.ts";

let h: EngineHarness;
let sink: Sink;

beforeAll(async () => {
  sink = await startSink();
  h = await startEngineHarness({
    providers: { webhook: createProvider("webhook", { secret: "move-test", timeoutMs: 5000 }) },
  });
});
afterAll(async () => {
  await h?.close();
  await sink?.close();
});

const DAY = 86_400_000;

/** A move of the runs in flight on `from` to `to`, done (testing/move.ts). */
const migrate = (
  journeyId: string,
  from: string[],
  to: string,
  choices: MigrationChoices,
  labels: Record<string, string> = {},
) => moveRuns(h, journeyId, from, to, choices, labels);

async function counters(versionId: string) {
  const rows = await h.db.prisma.stepCounter.groupBy({
    by: ["stepId"],
    where: { versionId },
    _sum: { entered: true, completed: true, movedIn: true, movedOut: true },
  });
  return Object.fromEntries(rows.map((r) => [r.stepId, r._sum]));
}

describe("issue 18: the move", () => {
  it("deleted step → another step (it runs once); changed wait-for-event re-parked, deadline from the start", async () => {
    const v1: StepSpec[] = [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "ab" },
      {
        id: "ab",
        type: "split.random",
        data: {
          variants: [
            { id: "a", percent: 50 },
            { id: "b", percent: 50 },
          ],
        },
        next: { a: "split", b: "split" },
      },
      {
        id: "split",
        type: "split.condition",
        data: { conditions: [{ property: "event.registered", op: "eq", value: true }] },
        next: { yes: "reminder", no: "reg" },
      },
      { id: "reminder", type: "wait.duration", data: { amount: 3, unit: "days" }, next: "end" },
      {
        id: "reg",
        type: "wait.event",
        data: { event: "registered", timeout: { amount: 7, unit: "days" } },
        next: { arrived: "thanks", timedOut: "end" },
      },
      {
        id: "thanks",
        type: "action.webhook",
        data: { url: `${sink.url}/thanks`, body: '{"c":"{{ customer.externalId }}"}' },
        next: "end",
      },
    ];
    const { journeyId, versionId: first } = await h.publish("move to a step", v1);
    for (let i = 0; i < 7; i++)
      await track(h.ctx, h.workspaceId, {
        userId: `s${i}`,
        event: "purchase",
        properties: { registered: i < 4 },
      });
    await waitFor("7 waiting", async () =>
      (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })) === 7
        ? true
        : null,
    );
    const before = await h.db.prisma.journeyRun.findMany({ where: { journeyId } });
    const v2: StepSpec[] = [
      ...v1.filter((s) => s.id !== "reminder" && s.id !== "reg" && s.id !== "split"),
      { ...v1[2]!, next: { yes: "ping", no: "reg" } },
      {
        id: "ping",
        type: "action.webhook",
        data: { url: `${sink.url}/ping`, body: '{"c":"{{ customer.externalId }}"}' },
        next: "end",
      },
      {
        id: "reg",
        type: "wait.event",
        data: { event: "signed_up", timeout: { amount: 14, unit: "days" } },
        next: { arrived: "thanks", timedOut: "end" },
      },
    ];
    const { versionId: second } = await h.publish("move to a step", v2, {}, journeyId);
    const done = await migrate(
      journeyId,
      [first],
      second,
      { mode: "move", deletedSteps: { reminder: "ping" }, changedWaits: "fromStart" },
      { ping: "SMS reminder" },
    );
    expect(done).toMatchObject({ total: 7, moved: 7, exited: 0, kept: 0 });

    // The 4 at the deleted step ran "ping" once each on version 2, and finished there.
    await waitFor("the moved runs to finish", async () =>
      (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) === 4 &&
      (await h.db.prisma.message.count({ where: { stepId: "ping", status: "SENT" } })) === 4
        ? true
        : null,
    );
    const pings = sink.deliveries.filter((d) => d.path === "/ping");
    expect(pings.map((d) => (JSON.parse(d.body) as { c: string }).c).sort()).toEqual([
      "s0",
      "s1",
      "s2",
      "s3",
    ]);
    const after = await h.db.prisma.journeyRun.findMany({ where: { journeyId } });
    expect(after.every((r) => r.versionId === second)).toBe(true);
    const traces = await h.db.prisma.runTrace.findMany({
      where: { runId: { in: after.map((r) => r.id) } },
      orderBy: { id: "asc" },
    });
    const moved = traces.filter((t) => t.kind === "run.moved");
    expect(moved).toHaveLength(7);
    expect(
      moved.filter(
        (t) =>
          (t.detail as { text: string }).text ===
          "Moved from version 1 to 2: reminder (deleted) → SMS reminder",
      ),
    ).toHaveLength(4);
    // Splits passed are not decided again: one A/B draw and one condition per run, ever.
    for (const r of after) {
      const mine = traces.filter((t) => t.runId === r.id);
      expect(mine.filter((t) => t.stepId === "ab")).toHaveLength(1);
      expect(mine.filter((t) => t.stepId === "split")).toHaveLength(1);
      const was = before.find((b) => b.id === r.id)!;
      expect((r.state as { vars: unknown }).vars).toEqual((was.state as { vars: unknown }).vars);
    }

    // The 3 waiting for "registered" now wait for "signed_up", their deadline 7 days later
    // (14 days from when they started waiting, not from the move).
    const parked = after.filter((r) => r.currentStepId === "reg");
    expect(parked).toHaveLength(3);
    for (const r of parked) {
      const was = before.find((b) => b.id === r.id)!;
      expect(r.status).toBe("WAITING");
      expect(r.parkedEvent).toBe("signed_up");
      expect(r.waitingUntil!.getTime() - was.waitingUntil!.getTime()).toBe(7 * DAY);
    }
    // The old event does nothing now; the new one moves the run on to "thanks".
    const s4 = parked.find(
      (r) => (r.state as { customer: { externalId: string } }).customer.externalId === "s4",
    )!;
    await track(h.ctx, h.workspaceId, { userId: "s4", event: "registered" });
    await track(h.ctx, h.workspaceId, { userId: "s4", event: "signed_up" });
    await waitFor("s4 thanked", () =>
      Promise.resolve(sink.deliveries.some((d) => d.path === "/thanks") ? true : null),
    );
    const s4Traces = await h.db.prisma.runTrace.findMany({ where: { runId: s4.id } });
    expect(s4Traces.find((t) => t.kind === "event.arrived")?.detail).toMatchObject({
      event: "signed_up",
    });

    // Analytics per version: the moved runs moved out of version 1's steps and into version 2's
    // (neither completed there nor entered here); s4 then went on from version 2's "reg".
    expect(await counters(first)).toMatchObject({
      reminder: { entered: 4, completed: 0, movedOut: 4, movedIn: 0 },
      reg: { entered: 3, completed: 0, movedOut: 3, movedIn: 0 },
    });
    const c2 = await counters(second);
    expect(c2).toMatchObject({
      ping: { entered: 0, movedIn: 4, completed: 4, movedOut: 0 },
      reg: { entered: 0, movedIn: 3, completed: 1 },
      thanks: { entered: 1 },
    });
    expect(c2["ab"]).toBeUndefined(); // nobody entered version 2 at its start
  });

  it("deleted step → exit them; a changed wait keeps each customer's due time", async () => {
    const v1: StepSpec[] = [
      { id: "t", type: "trigger.event", data: { event: "signup" }, next: "vip" },
      {
        id: "vip",
        type: "split.condition",
        data: { conditions: [{ property: "event.vip", op: "eq", value: true }] },
        next: { yes: "a", no: "b" },
      },
      { id: "a", type: "wait.duration", data: { amount: 2, unit: "days" }, next: "end" },
      { id: "b", type: "wait.duration", data: { amount: 5, unit: "days" }, next: "end" },
    ];
    const { journeyId, versionId: first } = await h.publish("exit them", v1);
    for (let i = 0; i < 5; i++)
      await track(h.ctx, h.workspaceId, {
        userId: `x${i}`,
        event: "signup",
        properties: { vip: i < 2 },
      });
    await waitFor("5 waiting", async () =>
      (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })) === 5
        ? true
        : null,
    );
    const before = await h.db.prisma.journeyRun.findMany({ where: { journeyId } });
    const { versionId: second } = await h.publish(
      "exit them",
      [
        { ...v1[0]! },
        { ...v1[1]!, next: { yes: "end", no: "b" } },
        { id: "b", type: "wait.duration", data: { amount: 10, unit: "days" }, next: "end" },
      ],
      {},
      journeyId,
    );
    const done = await migrate(journeyId, [first], second, {
      mode: "move",
      deletedSteps: { a: null },
      changedWaits: "keepDueTime",
    });
    expect(done).toMatchObject({ total: 5, moved: 3, exited: 2 });
    const after = await h.db.prisma.journeyRun.findMany({ where: { journeyId } });
    const exited = after.filter((r) => r.status === "EXITED");
    expect(exited).toHaveLength(2);
    // They left from version 1 (they never joined version 2).
    expect(exited.every((r) => r.versionId === first && r.currentStepId === "a")).toBe(true);
    for (const r of after.filter((x) => x.currentStepId === "b")) {
      const was = before.find((b) => b.id === r.id)!;
      expect(r).toMatchObject({ versionId: second, status: "WAITING" });
      expect(r.waitingUntil?.getTime()).toBe(was.waitingUntil?.getTime());
    }
    const t = await h.db.prisma.runTrace.findMany({
      where: { runId: { in: after.map((r) => r.id) }, kind: "run.moved" },
    });
    expect(t.map((x) => (x.detail as { text: string }).text).sort()).toEqual([
      "Moved from version 1 to 2: a (deleted) → left the journey",
      "Moved from version 1 to 2: a (deleted) → left the journey",
      "Moved from version 1 to 2: b → same step, keeps its due time",
      "Moved from version 1 to 2: b → same step, keeps its due time",
      "Moved from version 1 to 2: b → same step, keeps its due time",
    ]);
    // Moving again finds nobody left on version 1: nothing is moved twice.
    const again = await migrate(journeyId, [first], second, {
      mode: "move",
      deletedSteps: { a: null },
      changedWaits: "keepDueTime",
    });
    expect(again).toMatchObject({ moved: 0, exited: 0 });
    expect(
      await h.db.prisma.runTrace.count({
        where: { runId: { in: after.map((r) => r.id) }, kind: "run.moved" },
      }),
    ).toBe(5);
  });

  it("a move through a step that changes the customer checks their segments: they enter a segment-triggered journey", async () => {
    const v1: StepSpec[] = [
      { id: "t", type: "trigger.event", data: { event: "registered" }, next: "a" },
      { id: "a", type: "wait.duration", data: { amount: 2, unit: "days" }, next: "end" },
    ];
    const { journeyId, versionId: first } = await h.publish("upgrade on move", v1);
    const premium = await h.publish("premium welcome", [
      {
        id: "t",
        type: "trigger.segment",
        data: { conditions: [{ property: "tier", op: "eq", value: "premium" }] },
        next: "w",
      },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
    ]);
    for (let i = 0; i < 3; i++)
      await track(h.ctx, h.workspaceId, { userId: `p${i}`, event: "registered" });
    await waitFor("3 waiting", async () =>
      (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })) === 3
        ? true
        : null,
    );
    const { versionId: second } = await h.publish(
      "upgrade on move",
      [
        { ...v1[0]!, next: "up" },
        { id: "up", type: "action.attribute", data: { set: { tier: "premium" } }, next: "b" },
        { id: "b", type: "wait.duration", data: { amount: 5, unit: "days" }, next: "end" },
      ],
      {},
      journeyId,
    );
    const done = await migrate(journeyId, [first], second, {
      mode: "move",
      deletedSteps: { a: "up" },
      changedWaits: "keepDueTime",
    });
    expect(done).toMatchObject({ total: 3, moved: 3 });
    const customers = await h.db.prisma.customer.findMany({
      where: { workspaceId: h.workspaceId, externalId: { in: ["p0", "p1", "p2"] } },
    });
    expect(customers.map((c) => (c.attributes as { tier?: string }).tier)).toEqual([
      "premium",
      "premium",
      "premium",
    ]);
    // The move queued their segment check: each enters the segment-triggered journey once.
    const entered = await waitFor(
      "the moved customers in the segment-triggered journey",
      async () => {
        const runs = await h.db.prisma.journeyRun.findMany({
          where: { journeyId: premium.journeyId },
        });
        return runs.length >= 3 ? runs : null;
      },
      { progress: () => runProgress(h.db, premium.journeyId) },
    );
    expect(entered.map((r) => r.customerId).sort()).toEqual(customers.map((c) => c.id).sort());
  });

  it("a deleted step with no choice keeps its customers on their version", async () => {
    const v1: StepSpec[] = [
      { id: "t", type: "trigger.event", data: { event: "visit" }, next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
    ];
    const { journeyId, versionId: first } = await h.publish("unmapped", v1);
    await track(h.ctx, h.workspaceId, { userId: "k1", event: "visit" });
    await waitFor("waiting", async () =>
      (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })) === 1
        ? true
        : null,
    );
    const { versionId: second } = await h.publish(
      "unmapped",
      [{ ...v1[0]!, next: "end" }],
      {},
      journeyId,
    );
    const done = await migrate(journeyId, [first], second, {
      mode: "move",
      deletedSteps: {},
      changedWaits: "keepDueTime",
    });
    expect(done).toMatchObject({ moved: 0, exited: 0, kept: 1 });
    expect(await h.db.prisma.journeyRun.findFirst({ where: { journeyId } })).toMatchObject({
      versionId: first,
      status: "WAITING",
      currentStepId: "w",
    });
  });

  it("a run busy on a step when the move starts is moved by a later pass, once it waits", async () => {
    const v1: StepSpec[] = [
      { id: "t", type: "trigger.event", data: { event: "late" }, next: "w" },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
    ];
    const { journeyId, versionId: first } = await h.publish("busy", v1);
    const { versionId: second } = await h.publish(
      "busy",
      [v1[0]!, { ...v1[1]!, data: { amount: 2, unit: "days" } }],
      {},
      journeyId,
    );
    // Enrolled on version 1 but not yet started (ACTIVE, its first job not run): the workers are
    // stopped while the first pass runs.
    await h.workers?.close();
    const customerId = await h.customer("busy-1");
    const runRow = await h.db.prisma.journeyRun.create({
      data: {
        workspaceId: h.workspaceId,
        journeyId,
        versionId: first,
        customerId,
        entryNumber: 1,
        trigger: { name: "late", properties: {}, timestamp: Date.now() },
      },
    });
    const m = await h.db.prisma.journeyMigration.create({
      data: {
        workspaceId: h.workspaceId,
        journeyId,
        fromVersionIds: [first],
        toVersionId: second,
        choices: { mode: "move", deletedSteps: {}, changedWaits: "fromStart" },
        total: 1,
      },
    });
    const firstPass = await runMigration(h.ctx, m.id, 0);
    expect(firstPass).toMatchObject({ status: "RUNNING", moved: 0, pass: 1 });
    // The run starts on version 1 and waits; the next pass moves it.
    h.startWorkers();
    await ensureFollowUps(h.ctx, runRow.id);
    const done = await waitFor("the second pass", async () => {
      const r = await h.db.prisma.journeyMigration.findUniqueOrThrow({ where: { id: m.id } });
      return r.status === "DONE" ? r : null;
    });
    expect(done).toMatchObject({ moved: 1, kept: 0 });
    expect(done.pass).toBeGreaterThanOrEqual(1);
    const moved = await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: runRow.id } });
    expect(moved).toMatchObject({ versionId: second, status: "WAITING", currentStepId: "w" });
    const state = moved.state as { enteredAt: number };
    // Counted from when it started waiting: two days after it entered, not after the move.
    expect(moved.waitingUntil!.getTime() - state.enteredAt).toBe(2 * DAY);
  });
});
