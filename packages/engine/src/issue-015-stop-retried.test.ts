// Issue 15: stopping a journey exits its runs in one UPDATE of up to 5,000 rows, taken in the
// plan's order, while a run commit of a timer bucket updates up to 600 of the same journey's runs
// in its own: the two can deadlock, and Postgres aborts one of them (40P01). The commit retries
// its runs one by one; the stop failed, and the marketer saw an error on "Stop". Now the stop's
// statement is tried again on a deadlock or serialization failure (exit.ts), and only then.
// Real Postgres and Redis; the abort is a trigger of the test's own database that fails the first
// UPDATEs of "JourneyRun" with the SQLSTATE Postgres gives a deadlock victim (a sequence counts
// the attempts: a sequence is not rolled back with the statement).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stopJourney } from "./operate.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;

beforeEach(async () => {
  h = await startEngineHarness({ workers: false });
});
afterEach(async () => {
  await h.close();
});

/** The first `times` UPDATE statements on "JourneyRun" fail with SQLSTATE `code`. */
async function failRunUpdates(times: number, code: string) {
  await h.db.exec(`DROP SEQUENCE IF EXISTS run_update_attempts`);
  await h.db.exec(`CREATE SEQUENCE run_update_attempts`);
  await h.db.exec(
    `CREATE OR REPLACE FUNCTION fail_run_updates() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF nextval('run_update_attempts') <= ${times} THEN
         RAISE EXCEPTION 'test: run update aborted' USING ERRCODE = '${code}';
       END IF;
       RETURN NULL;
     END $$`,
  );
  await h.db.exec(
    `CREATE TRIGGER fail_run_updates BEFORE UPDATE ON "JourneyRun"
     FOR EACH STATEMENT EXECUTE FUNCTION fail_run_updates()`,
  );
}

const attempts = async () =>
  (await h.db.query<{ n: number }>(`SELECT last_value::int AS n FROM run_update_attempts`))[0]!.n;

/** A live journey (a day's wait) with three customers' runs on it. */
async function journeyWithRuns() {
  const { journeyId, versionId } = await h.publish("Busy journey", [
    { id: "t", type: "trigger.manual", next: "w" },
    { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "end" },
  ]);
  for (const name of ["ann", "bob", "cy"])
    await h.db.prisma.journeyRun.create({
      data: {
        workspaceId: h.workspaceId,
        journeyId,
        versionId,
        customerId: await h.customer(name),
        entryNumber: 1,
        currentStepId: "w",
        status: "WAITING",
        waitingUntil: new Date(Date.now() + 86_400_000),
      },
    });
  return journeyId;
}

describe("stopping a journey", () => {
  it("is tried again when Postgres aborts its update for a deadlock, and exits every run once", async () => {
    const journeyId = await journeyWithRuns();
    await failRunUpdates(2, "40P01");

    expect(await stopJourney(h.ctx, h.workspaceId, journeyId)).toEqual({
      status: "STOPPED",
      exited: 3,
    });
    expect(await attempts()).toBe(3);
    const traces = await h.db.query<{ kind: string; n: number }>(
      `SELECT kind, count(*)::int AS n FROM "RunTrace" t JOIN "JourneyRun" r ON r.id = t."runId"
       WHERE r."journeyId" = $1 GROUP BY kind`,
      [journeyId],
    );
    expect(traces).toEqual([{ kind: "run.exited", n: 3 }]);
    const runs = await h.db.query<{ status: string; seq: number }>(
      `SELECT status::text, seq FROM "JourneyRun" WHERE "journeyId" = $1`,
      [journeyId],
    );
    expect(runs).toEqual([
      { status: "EXITED", seq: 1 },
      { status: "EXITED", seq: 1 },
      { status: "EXITED", seq: 1 },
    ]);
  });

  it("is not tried again for other errors: the stop fails at once and exits nothing", async () => {
    const journeyId = await journeyWithRuns();
    await failRunUpdates(1, "22023");

    await expect(stopJourney(h.ctx, h.workspaceId, journeyId)).rejects.toThrow(
      "test: run update aborted",
    );
    expect(await attempts()).toBe(1);
    const runs = await h.db.query<{ status: string }>(
      `SELECT status::text FROM "JourneyRun" WHERE "journeyId" = $1`,
      [journeyId],
    );
    expect(runs.map((r) => r.status)).toEqual(["WAITING", "WAITING", "WAITING"]);
  });
});
