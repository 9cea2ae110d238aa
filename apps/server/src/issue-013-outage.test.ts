// Issue 13, item 4: outages answered honestly. Postgres and Redis are reached through proxies this
// test cuts (every open connection closed, new ones refused, as a stopped server does) and
// restores. While one is down: ingest and tRPC answer 503 with Retry-After (never 500), /healthz
// and /readyz say which dependency is down; afterwards everything acknowledged is processed, and
// waits that fell due while Redis was gone (its jobs lost) resume without the sweeper.
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import { startOutageProxy, type OutageProxy } from "@postpath/db/testing";
import { draftFromSteps } from "@postpath/journey";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describe("issue 13: Postgres or Redis down → 503 + Retry-After, then everything resumes", () => {
  let pg: OutageProxy;
  let redis: OutageProxy;
  let smtp: SmtpSink;
  let h: Harness;
  let journeyId: string;
  let api: ReturnType<typeof trpcHttp>;

  beforeAll(async () => {
    pg = await startOutageProxy({ host: "127.0.0.1", port: 5432 });
    const r = new URL(REDIS_URL);
    redis = await startOutageProxy({ host: r.hostname, port: Number(r.port || 6379) });
    smtp = await startSmtpSink();
    // No sweeper: what recovers below is the outage handling itself.
    h = await startHarness({
      smtpUrl: smtp.url,
      via: { postgres: pg, redis },
      workers: { sweepEveryMs: 0 },
    });
    api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "w" },
      // Long enough that the Redis test sees its 12 customers waiting before the cut even on a
      // loaded machine (with 3 s, at load 15, they had all gone through first); the test waits
      // for the last one to fall due, so a longer wait only costs that much time.
      { id: "w", type: "wait.duration", data: { amount: 30, unit: "seconds" }, next: "m" },
      {
        id: "m",
        type: "action.email",
        data: { subject: "Thanks", body: "Thanks for your order.", format: "text" },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    const created = await api.mutation("journeys.create", { name: "Thanks", draft });
    journeyId = created.body.result.data.id as string;
    expect((await api.mutation("journeys.publish", { id: journeyId })).status).toBe(200);
  });
  afterAll(async () => {
    pg?.restore();
    redis?.restore();
    await h?.close();
    await smtp?.close();
    await pg?.close();
    await redis?.close();
  });

  const headers = () => ({
    authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
    "content-type": "application/json",
  });
  const track = (userId: string) =>
    fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ userId, event: "purchase", messageId: `buy-${userId}` }),
    });
  const health = async () => {
    const res = await fetch(`${h.baseUrl}/healthz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, res };
  };
  const runsByStatus = async () =>
    h.db.prisma.journeyRun.groupBy({
      by: ["status"],
      where: { journeyId },
      _count: { _all: true },
      orderBy: { status: "asc" },
    });
  const customersStarting = async (prefix: string) =>
    (
      await h.db.prisma.customer.findMany({
        where: { externalId: { startsWith: prefix } },
        select: { id: true },
      })
    ).map((c) => c.id);
  const identify = (userId: string) =>
    fetch(`${h.baseUrl}/v1/identify`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ userId, traits: { email: `${userId}@example.com` } }),
    });

  it("Postgres down: 503 + Retry-After from ingest, tRPC, /healthz and /readyz — never 500 — and acknowledged purchases enrol after", async () => {
    expect((await health()).body).toMatchObject({ ok: true, postgres: "up", redis: "up" });
    for (const u of ["pg-a", "pg-b"]) expect((await identify(u)).status).toBe(200);
    expect((await track("pg-a")).status).toBe(200);

    pg.cut();
    // Before and after the monitor notices: whatever the timing, the answer is 503, not 500.
    const statuses = new Set<number>();
    const during = await waitFor("healthz to report Postgres down", async () => {
      const t = await track("pg-b");
      statuses.add(t.status);
      const hz = await health();
      return hz.status === 503 ? { t, hz } : null;
    });
    expect(during.hz.body).toMatchObject({ ok: false, postgres: "down", redis: "up" });
    expect(during.hz.res.headers.get("retry-after")).toMatch(/^\d+$/);
    const ingest = await track("pg-b");
    expect(ingest.status).toBe(503);
    expect(ingest.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await ingest.json()) as { error: string }).error).toMatch(/temporarily unavailable/);
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    const list = await api.query("journeys.list");
    expect(list.status).toBe(503);
    expect(list.body.error?.data?.code).toBe("SERVICE_UNAVAILABLE");
    expect(statuses.has(500)).toBe(false);

    pg.restore();
    await waitFor("healthz to report Postgres up", async () => (await health()).status === 200);
    expect((await fetch(`${h.baseUrl}/readyz`)).status).toBe(200);
    // The client's retry of the refused purchase, and the one acknowledged before the outage.
    expect((await track("pg-b")).status).toBe(200);
    const ids = await customersStarting("pg-");
    const runs = await waitFor(
      "both customers enrolled",
      async () => {
        const rows = await h.db.prisma.journeyRun.findMany({
          where: { journeyId },
          select: { customerId: true },
        });
        return rows.length === 2 ? rows : null;
      },
      { progress: runsByStatus },
    );
    expect(runs.map((r) => r.customerId).sort()).toEqual([...ids].sort());
  });

  it("Redis down with its jobs lost: 503 + Retry-After meanwhile; waits that fell due resume without the sweeper", async () => {
    const users = Array.from({ length: 12 }, (_, i) => `rd-${i}`);
    for (const u of users) expect((await identify(u)).status).toBe(200);
    for (const u of users) expect((await track(u)).status).toBe(200);
    const ids = await customersStarting("rd-");
    expect(ids).toHaveLength(users.length);
    const waiting = async () =>
      h.db.prisma.journeyRun.count({
        where: { journeyId, status: "WAITING", customerId: { in: ids } },
      });
    await waitFor("every new customer waiting", async () => (await waiting()) === users.length, {
      progress: runsByStatus,
    });

    redis.cut();
    // A Redis that restarts empty: this test's queues are gone, timers included.
    const direct = new Redis(REDIS_URL);
    const keys = await direct.keys(`${h.prefix}:*`);
    // The housekeeping schedulers go with them (checked here: this test's own queue handles
    // would wait for the cut connection).
    expect(keys.some((k) => k.includes("date-triggers"))).toBe(true);
    if (keys.length) await direct.del(...keys);
    direct.disconnect();

    const during = await waitFor("healthz to report Redis down", async () => {
      const hz = await health();
      return hz.status === 503 ? hz : null;
    });
    expect(during.body).toMatchObject({ ok: false, postgres: "up", redis: "down" });
    const refused = await track("rd-late");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    // Let every wait fall due while Redis is gone.
    const lastDue = await h.db.prisma.journeyRun.aggregate({
      where: { journeyId, status: "WAITING" },
      _max: { waitingUntil: true },
    });
    await waitFor("the waits to fall due", () =>
      Promise.resolve(Date.now() > (lastDue._max.waitingUntil?.getTime() ?? 0) + 200),
    );

    redis.restore();
    await waitFor("healthz to report Redis up", async () => (await health()).status === 200);
    await waitFor(
      "every customer's wait to resume and the run to complete",
      async () =>
        (await h.db.prisma.journeyRun.count({
          where: { journeyId, status: "COMPLETED", customerId: { in: ids } },
        })) === users.length,
      { progress: runsByStatus },
    );
    // The housekeeping schedulers lived in the lost keys too: they are put back.
    expect(await h.engine.queues.jobs.getJobScheduler("date-triggers")).toBeTruthy();
    // "Message" has no relation to its run (issue 15: no foreign keys): the journey's runs first.
    const runs = await h.db.prisma.journeyRun.findMany({
      where: { journeyId },
      select: { id: true },
    });
    const sent = await h.db.prisma.message.count({
      where: { runId: { in: runs.map((r) => r.id) }, status: "SENT", customerId: { in: ids } },
    });
    expect(sent).toBe(users.length);
  });
});
