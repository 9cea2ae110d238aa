// Issue 18, "Checked by": analytics per version after a move, on Postgres and Redis with the
// workers running. Customers wait at two steps of version 1 (some after a message was sent there);
// version 2 deletes one of the steps (its customers go to a new send step) and changes the other.
// After the move each version's figures keep what happened on it and add up: version 1's "waiting
// now" is 0 where version 2's gained them, a moved run counts as "moved out" on version 1 and
// "moved in" on version 2 (entered and sent are counted once over both versions), the rollups
// agree with a recount from the raw rows, and an open of a message version 1 sent counts on
// version 1 even though its run is on version 2 now.
import { createProvider } from "@postpath/channels";
import type { StepSpec } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { journeyDailyFigures, journeyStepFigures, type StepFigures } from "./analytics.ts";
import { recordEngagement } from "./engagement.ts";
import { track } from "./ingest.ts";
import { utcDay } from "./rollups.ts";
import { recountFigures, rollupFigures } from "./testing/recount.ts";
import {
  runProgress,
  startEngineHarness,
  waitFor,
  type EngineHarness,
  ofJourney,
} from "./testing/harness.ts";
import { moveRuns } from "./testing/move.ts";
import { startSink, type Sink } from "./testing/sink.ts";

let h: EngineHarness;
let sink: Sink;

beforeAll(async () => {
  sink = await startSink();
  h = await startEngineHarness({
    providers: {
      webhook: createProvider("webhook", { secret: "move-analytics", timeoutMs: 5000 }),
    },
  });
});
afterAll(async () => {
  await h?.close();
  await sink?.close();
});

const CUSTOMERS = 24;
const VIPS = 10; // go through "hook" (a message sent on version 1) and wait at "later"

/** Per version and step: entered + moved in − completed − moved out, which must be waiting now. */
function balance(s: StepFigures & { completed: number }): number {
  return s.entered + s.movedIn - s.completed - s.movedOut;
}

describe("issue 18: analytics per version after a move", () => {
  it("each version keeps its figures, moved runs count once, rollups agree with a recount", async () => {
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
        next: { a: "vip", b: "vip" },
      },
      {
        id: "vip",
        type: "split.condition",
        data: { conditions: [{ property: "event.vip", op: "eq", value: true }] },
        next: { yes: "hook", no: "reminder" },
      },
      {
        id: "hook",
        type: "action.webhook",
        data: { url: `${sink.url}/hook`, body: '{"c":"{{ customer.externalId }}"}' },
        next: "later",
      },
      { id: "later", type: "wait.duration", data: { amount: 5, unit: "days" }, next: "end" },
      { id: "reminder", type: "wait.duration", data: { amount: 3, unit: "days" }, next: "end" },
      { id: "end", type: "flow.exit" },
    ];
    const { journeyId, versionId: first } = await h.publish("analytics after a move", v1);
    for (let i = 0; i < CUSTOMERS; i++)
      await track(h.ctx, h.workspaceId, {
        userId: `m${i}`,
        event: "purchase",
        properties: { vip: i < VIPS },
      });
    await waitFor(
      "every customer waiting, the VIPs' messages sent",
      async () =>
        (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "WAITING" } })) ===
          CUSTOMERS &&
        (await h.db.prisma.message.count({
          where: { ...(await ofJourney(h.db, journeyId)), stepId: "hook", status: "SENT" },
        })) === VIPS,
      { progress: () => runProgress(h.db, journeyId) },
    );

    const { versionId: second } = await h.publish(
      "analytics after a move",
      [
        ...v1.filter((s) => s.id !== "reminder" && s.id !== "vip" && s.id !== "later"),
        { ...v1[2]!, next: { yes: "hook", no: "ping" } },
        {
          id: "ping",
          type: "action.webhook",
          data: { url: `${sink.url}/ping`, body: '{"c":"{{ customer.externalId }}"}' },
          next: "end",
        },
        { id: "later", type: "wait.duration", data: { amount: 9, unit: "days" }, next: "end" },
      ],
      {},
      journeyId,
    );
    const moved = await moveRuns(h, journeyId, [first], second, {
      mode: "move",
      deletedSteps: { reminder: "ping" },
      changedWaits: "keepDueTime",
    });
    expect(moved).toMatchObject({ total: CUSTOMERS, moved: CUSTOMERS, exited: 0, kept: 0 });
    const others = CUSTOMERS - VIPS;
    await waitFor(
      "the moved customers pinged and finished",
      async () =>
        (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) ===
        others,
      { progress: () => runProgress(h.db, journeyId) },
    );

    // An open of a message version 1 sent, after its run moved: it counts on version 1.
    const vipMessage = await h.db.prisma.message.findFirstOrThrow({
      where: { ...(await ofJourney(h.db, journeyId)), stepId: "hook" },
    });
    expect(await recordEngagement(h.ctx, "opened", vipMessage.id)).toBe(true);

    const figures = (await journeyStepFigures(h.db, h.workspaceId, journeyId))!;
    const completed = await h.db.query<{ versionId: string; stepId: string; n: number }>(
      `SELECT "versionId", "stepId", sum(completed)::int AS n FROM "StepCounter"
       WHERE "journeyId" = $1 GROUP BY 1, 2`,
      [journeyId],
    );
    const step = (versionId: string, stepId: string) => {
      const v = figures.versions.find((x) => x.versionId === versionId)!;
      const s = v.steps.find((x) => x.stepId === stepId)!;
      const c = completed.find((x) => x.versionId === versionId && x.stepId === stepId)?.n ?? 0;
      return { ...s, completed: c };
    };

    // Version 1: everybody entered there; nobody waits there now; the VIPs' messages were sent
    // there (and the open counts there); every waiting customer moved out.
    expect(step(first, "t")).toMatchObject({ entered: CUSTOMERS, movedIn: 0, movedOut: 0 });
    expect(step(first, "reminder")).toMatchObject({
      entered: others,
      waitingNow: 0,
      movedOut: others,
      movedIn: 0,
    });
    expect(step(first, "later")).toMatchObject({
      entered: VIPS,
      waitingNow: 0,
      movedOut: VIPS,
    });
    expect(step(first, "hook")).toMatchObject({ entered: VIPS, sent: VIPS, opened: 1 });
    // Version 2: nobody entered it at its start; the moved customers are counted as moved in,
    // the VIPs wait at "later" now, the others went through "ping" (sent there) to the end.
    expect(step(second, "t")).toMatchObject({ entered: 0 });
    expect(step(second, "hook")).toMatchObject({ entered: 0, sent: 0, opened: 0 });
    expect(step(second, "later")).toMatchObject({
      entered: 0,
      movedIn: VIPS,
      waitingNow: VIPS,
      movedOut: 0,
    });
    expect(step(second, "ping")).toMatchObject({
      entered: 0,
      movedIn: others,
      sent: others,
      waitingNow: 0,
    });
    expect(step(second, "end")).toMatchObject({ entered: others, waitingNow: 0 });

    // Per version and step the counts balance with the customers there now.
    for (const v of figures.versions)
      for (const s of v.steps) {
        const at = step(v.versionId, s.stepId);
        expect({ version: v.version, step: s.stepId, balance: balance(at) }).toEqual({
          version: v.version,
          step: s.stepId,
          balance: at.waitingNow,
        });
      }

    // All versions: each customer entered once, each message counted once, moves cancel out.
    const all = new Map(figures.all.map((s) => [s.stepId, s]));
    expect(all.get("t")).toMatchObject({ entered: CUSTOMERS });
    expect(all.get("later")).toMatchObject({ waitingNow: VIPS, movedIn: VIPS, movedOut: VIPS });
    expect(all.get("reminder")).toMatchObject({ entered: others, movedOut: others });
    expect(figures.all.reduce((n, s) => n + s.sent, 0)).toBe(CUSTOMERS);
    expect(figures.all.reduce((n, s) => n + s.movedIn - s.movedOut, 0)).toBe(0);
    const today = utcDay(h.ctx.now());
    expect(
      await journeyDailyFigures(h.db, h.workspaceId, journeyId, { from: today, to: today }),
    ).toEqual([{ day: today, entries: CUSTOMERS, sends: CUSTOMERS, conversions: 0, revenue: 0 }]);

    // The rollups (per version, step, A/B variant) agree with a recount from traces and messages.
    const rolled = await rollupFigures(h.db, journeyId);
    expect(rolled.get(`${second} ping a`)?.movedIn ?? 0).toBeGreaterThan(0);
    expect(rolled).toEqual(await recountFigures(h.ctx, journeyId));
  });
});
