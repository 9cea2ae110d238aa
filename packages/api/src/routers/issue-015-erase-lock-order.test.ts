// Issue 15: a customer's erasure could deadlock with the engine's run commit. The commit
// (engine store.ts commitBatch) locks its runs ("JourneyRun", the `upd` CTE) and then their
// customers (`customer_locks`); the erasure locked the customer and then the runs. With a commit
// holding the run and an erasure holding the customer, each waited for the other until Postgres
// aborted one side (40P01): the erasure answered a 500, or the commit's batch failed. The erasure
// now takes the runs first, then the customer, the commit's order; and a deadlock it still meets
// (a commit batch updating two runs of the customer in an order other than the erasure's by id)
// rolls the erasure back and tries it again instead of failing the call.
// Each interleaving is held in place with sessions of our own; which side Postgres aborts is set
// with deadlock_timeout (the side whose check finds the cycle aborts itself). Real Postgres.
import type { SqlSession } from "@postpath/db";
import { waitFor } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, type ApiTestEnv } from "../testing.ts";

describe("erasure and the run commit take their locks in one order (issue 15)", () => {
  let env: ApiTestEnv<"admin">;
  let ws: string;
  beforeAll(async () => {
    env = await openApiTestEnv([["admin", "ws-a", "ADMIN"]], { prefix: "eraselock" });
    ws = env.users.admin.workspaceId;
  });
  afterAll(async () => {
    await env?.close();
  });

  const sqlState = (err: unknown): string =>
    (err as { code?: string } | null)?.code ?? (err instanceof Error ? err.message : String(err));

  /** A customer and `n` runs of theirs (ids in the order made). */
  async function customerWithRuns(externalId: string, n: number) {
    const prisma = env.db.prisma;
    const c = await prisma.customer.create({ data: { workspaceId: ws, externalId } });
    const runs: string[] = [];
    for (let i = 0; i < n; i++)
      runs.push(
        (
          await prisma.journeyRun.create({
            data: {
              id: `${externalId}-run-${i}`,
              workspaceId: ws,
              journeyId: `j-${i}`,
              versionId: `v-${i}`,
              customerId: c.id,
              entryNumber: 1,
              currentStepId: "w",
              seq: 1,
            },
          })
        ).id,
      );
    return { id: c.id, runs };
  }

  /** An open transaction on its own connection; its backend pid. */
  async function begin(s: SqlSession, deadlockTimeout: string): Promise<number> {
    const [me] = await s.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
    await s.exec("BEGIN");
    // Which side of a cycle finds it (and aborts itself): the one whose timeout ends first.
    await s.exec(`SET LOCAL deadlock_timeout = '${deadlockTimeout}'`);
    return me!.pid;
  }

  /** Some other backend waits for a lock `pid` holds. */
  const blockedBy = (pid: number) => async () =>
    (
      await env.db.query(
        `SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))`,
        [pid],
      )
    ).length > 0;

  /** Backend `pid` waits for a lock. */
  const waiting = (pid: number) => async () =>
    (await env.db.query(`SELECT 1 WHERE cardinality(pg_blocking_pids($1::int)) > 0`, [pid]))
      .length > 0;

  const erase = (id: string, externalId: string) =>
    createCaller(env.ctxFor(env.users.admin)).customers.erase({
      id,
      confirmExternalId: externalId,
    });

  async function leftOf(c: { id: string; runs: string[] }) {
    const [left] = await env.db.query<{ customers: number; runs: number }>(
      `SELECT (SELECT count(*) FROM "Customer" WHERE id = $1)::int AS customers,
              (SELECT count(*) FROM "JourneyRun" WHERE "customerId" = $1 OR id = ANY($2::text[]))::int AS runs`,
      [c.id, c.runs],
    );
    return left;
  }

  it("a run commit holding the run and then asking for the customer completes, and so does the erasure", async () => {
    const c = await customerWithRuns("held-run", 1);
    const failures: string[] = [];
    let erasing!: Promise<Awaited<ReturnType<typeof erase>>>;
    await env.db.withSession(async (s) => {
      // The commit's side finds any cycle first (0.1 s against the erasure's 1 s), so a deadlock
      // shows as its statement failing, whichever of the two would otherwise be aborted.
      const pid = await begin(s, "100ms");
      // The run commit's `upd`: the run's row updated (locked) in the statement's first step.
      await s.query(`UPDATE "JourneyRun" SET seq = seq + 1, "updatedAt" = now() WHERE id = $1`, [
        c.runs[0],
      ]);
      erasing = erase(c.id, "held-run");
      erasing.catch(() => undefined); // awaited below
      // The erasure waits for that run (having taken the customer first, before the fix).
      await waitFor("the erasure waits for the run the commit holds", blockedBy(pid));
      try {
        // The commit's `customer_locks`, then its update of the customer.
        await s.query(
          `SELECT 1 FROM "Customer" cu WHERE cu.id = $1
           ORDER BY cu."workspaceId", cu."externalId" FOR NO KEY UPDATE OF cu`,
          [c.id],
        );
        await s.query(
          `UPDATE "Customer" SET attributes = attributes || '{"plan":"gold"}'::jsonb WHERE id = $1`,
          [c.id],
        );
        await s.exec("COMMIT");
      } catch (err) {
        failures.push(sqlState(err));
        await s.exec("ROLLBACK");
      }
    });
    const result = await erasing;
    expect(failures).toEqual([]); // 40P01 (deadlock detected) before the fix
    expect(result.erased).toBe(true);
    expect(result.counts.runs).toBe(1);
    expect(await leftOf(c)).toEqual({ customers: 0, runs: 0 });
  });

  it("an erasure that Postgres aborts for a deadlock is tried again, not answered with a 500", async () => {
    // Two runs; the erasure locks them by id (run-0, then run-1). A run commit's UPDATE takes its
    // batch's runs in the batch's order: here run-1 and then run-0.
    const c = await customerWithRuns("two-runs", 2);
    const [first, second] = c.runs as [string, string];
    const failures: string[] = [];
    let erasing!: Promise<Awaited<ReturnType<typeof erase>>>;
    await env.db.withSession(async (pause) => {
      // A key-share lock on run-1 (what a foreign key check takes): the erasure, having locked
      // run-0, waits on it for run-1; the commit's update of run-1 does not.
      const pausePid = await begin(pause, "60s");
      await pause.query(`SELECT 1 FROM "JourneyRun" WHERE id = $1 FOR KEY SHARE`, [second]);
      erasing = erase(c.id, "two-runs");
      erasing.catch(() => undefined); // awaited below
      await waitFor("the erasure waits for run-1", blockedBy(pausePid));
      await env.db.withSession(async (s) => {
        // The commit's side never finds the cycle first: the erasure, which closes it, does.
        const pid = await begin(s, "60s");
        try {
          await s.query(`UPDATE "JourneyRun" SET seq = seq + 1 WHERE id = $1`, [second]);
          const updating = s.query(`UPDATE "JourneyRun" SET seq = seq + 1 WHERE id = $1`, [first]);
          updating.catch(() => undefined); // awaited below
          await waitFor("the commit waits for run-0, which the erasure holds", waiting(pid));
          // The pause ends: the erasure now waits for the commit, which waits for the erasure.
          await pause.exec("COMMIT");
          // The commit gets run-0 only once the erasure's transaction has been rolled back.
          await updating;
          await s.exec("COMMIT");
        } catch (err) {
          failures.push(sqlState(err));
          await s.exec("ROLLBACK");
        }
      });
    });
    const result = await erasing; // INTERNAL_SERVER_ERROR (deadlock detected) without the retry
    expect(failures).toEqual([]);
    expect(result.erased).toBe(true);
    expect(result.counts.runs).toBe(2);
    expect(await leftOf(c)).toEqual({ customers: 0, runs: 0 });
  });
});
