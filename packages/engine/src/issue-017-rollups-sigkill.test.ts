// Issue 17, item 7: the analytics rollups stay right when worker processes are SIGKILLed mid-batch.
// 300 customers go through an A/B split, an email per arm, a wait and a second email (SMTP sink)
// while half of them buy; two worker processes are killed and replaced every few seconds. Once
// everything is done, JourneyRollup per (version, step, variant) equals a recount from the raw rows
// (traces, messages, attributions): every increment was committed with the change it counts.
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import {
  runProgress,
  sleep,
  startEngineHarness,
  waitFor,
  type EngineHarness,
} from "./testing/harness.ts";
import { workerFleet, type WorkerFleet } from "./testing/worker-fleet.ts";
import { recountFigures, rollupFigures } from "./testing/recount.ts";

const CUSTOMERS = 300;

describe("issue 17: rollups across SIGKILL", () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  let h: EngineHarness;
  let workers: WorkerFleet;

  beforeAll(async () => {
    db = await createTestDatabase();
    smtp = await startSmtpSink();
    h = await startEngineHarness({ db, workers: false });
    workers = workerFleet(
      {
        databaseUrl: db.url,
        prefix: h.prefix,
        timers: { directWithinMs: 0, bucketMs: 200, pageSize: 25 },
        smtpUrl: smtp.url,
      },
      { stdout: "ignore" },
    );
  });
  afterAll(async () => {
    workers?.killAll();
    await h?.close();
    await smtp?.close();
    await db?.drop();
  });

  it("rollups agree with a recount from raw rows after workers were killed mid-batch", async () => {
    const { journeyId } = await h.publish("ab-crash", [
      { id: "t", type: "trigger.event", data: { event: "visit" }, next: "s" },
      {
        id: "s",
        type: "split.random",
        data: {
          variants: [
            { id: "a", percent: 45 },
            { id: "b", percent: 45 },
          ],
          holdout: 10,
        },
        next: { a: "ma", b: "mb", holdout: "w" },
      },
      {
        id: "ma",
        type: "action.email",
        data: { subject: "A", body: "A", format: "text" },
        next: "w",
      },
      {
        id: "mb",
        type: "action.email",
        data: { subject: "B", body: "B", format: "text" },
        next: "w",
      },
      { id: "w", type: "wait.duration", data: { amount: 1, unit: "seconds" }, next: "m2" },
      {
        id: "m2",
        type: "action.email",
        data: { subject: "2", body: "2", format: "text" },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    for (let i = 0; i < CUSTOMERS; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          h.customer(`u${i + k}`, { email: `u${i + k}@example.com` }),
        ),
      );
    workers.spawn();
    workers.spawn();
    const buy = (n: number) =>
      track(h.ctx, h.workspaceId, {
        userId: `u${n}`,
        event: "purchase",
        messageId: `p-${n}`,
        properties: { revenue: 10 + (n % 7), order_id: `o-${n}` },
      });
    const ingest = (async () => {
      for (let i = 0; i < CUSTOMERS; i += 25)
        await Promise.all(
          Array.from({ length: 25 }, (_, k) =>
            track(h.ctx, h.workspaceId, {
              userId: `u${i + k}`,
              event: "visit",
              messageId: `v-${i + k}`,
            }),
          ),
        );
      // Every other customer buys once they had an email (while workers keep dying).
      const bought = new Set<string>();
      while (bought.size < CUSTOMERS / 2) {
        const mailed = await db.query<{ externalId: string }>(
          `SELECT DISTINCT c."externalId" FROM "Message" m JOIN "Customer" c ON c.id = m."customerId"
           WHERE m.status = 'SENT'`,
        );
        const next = mailed
          .map((r) => r.externalId)
          .filter((u) => Number(u.slice(1)) % 2 === 0 && !bought.has(u));
        for (const u of next) bought.add(u);
        await Promise.all(next.map((u) => buy(Number(u.slice(1)))));
        // Holdout customers get no first email: they buy without one (not attributed).
        if (next.length === 0) {
          const held = await db.query<{ externalId: string }>(
            `SELECT c."externalId" FROM "JourneyRun" r JOIN "Customer" c ON c.id = r."customerId"
             WHERE r."journeyId" = $1 AND r.status = 'COMPLETED'`,
            [journeyId],
          );
          const rest = held
            .map((r) => r.externalId)
            .filter((u) => Number(u.slice(1)) % 2 === 0 && !bought.has(u));
          for (const u of rest) bought.add(u);
          await Promise.all(rest.map((u) => buy(Number(u.slice(1)))));
          await sleep(200);
        }
      }
    })();
    let kills = 0;
    const done = async () =>
      (await db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) ===
        CUSTOMERS && (await db.prisma.event.count({ where: { processedAt: null } })) === 0;
    for (let round = 0; round < 12 && !(await done()); round++) {
      await sleep(1500 + Math.random() * 2000);
      const victim = [...workers.running][Math.floor(Math.random() * workers.running.size)];
      if (victim) {
        victim.kill("SIGKILL");
        kills++;
      }
      workers.spawn();
    }
    await ingest;
    await waitFor("every run completed and every event processed", done, {
      progress: () => runProgress(db, journeyId),
    });
    const rolled = await rollupFigures(db, journeyId);
    const recounted = await recountFigures(h.ctx, journeyId);
    const sum = (
      m: Map<string, { entered: number; sent: number; converted: number }>,
      f: "entered" | "sent" | "converted",
    ) => [...m.values()].reduce((a, v) => a + v[f], 0);
    console.log(
      `rollups after ${kills} SIGKILLs: entered ${sum(rolled, "entered")}, sent ${sum(rolled, "sent")}, converted ${sum(rolled, "converted")}; keys ${rolled.size}`,
    );
    expect(kills).toBeGreaterThan(0);
    expect(rolled.get(`${[...rolled.keys()][0]?.split(" ")[0]} t `)?.entered).toBe(CUSTOMERS);
    expect(rolled).toEqual(recounted);
    expect(sum(rolled, "converted")).toBeGreaterThan(0);
  }, 1_800_000);
});
