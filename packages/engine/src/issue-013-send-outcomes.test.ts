// Issue 13, items 1 and 3: the provider's answer is never confused with our own bookkeeping, and a
// send whose worker died between the provider's acceptance and the record follows its step's
// delivery policy. Real Postgres, Redis, SMTP sink and HTTP receiver; the crash is a real SIGKILL
// of a worker process, timed deterministically: the receiver has the message but the answer is
// held back until the process is dead.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { createProvider } from "@postpath/channels";
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import type { StepSpec } from "@postpath/journey";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { dismissMessage, listDeadLetters, nodeCounts } from "./operate.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { startSink, type Sink } from "./testing/sink.ts";

const ENTRY = path.join(import.meta.dirname, "testing", "worker-process.ts");
const PACKAGE_DIR = path.join(import.meta.dirname, "..");

let smtp: SmtpSink;
let sink: Sink;

beforeAll(async () => {
  sink = await startSink();
});
afterAll(async () => {
  await sink.close();
});
// A fresh SMTP sink per test: its list of received mail starts empty.
beforeEach(async () => {
  smtp = await startSmtpSink();
});
afterEach(async () => {
  await smtp.close();
});

/**
 * An SMTP hop that passes everything through, except that once a message's DATA has been sent
 * it stops passing the server's answers back: the server has stored the message (the mailbox has
 * it), the sender never hears "250". What a worker killed right after the hand-over looks like.
 */
async function withholdingProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let tail = "";
    let handedOver = false;
    client.on("data", (buf) => {
      upstream.write(buf);
      tail = (tail + buf.toString("latin1")).slice(-5);
      if (tail.endsWith("\r\n.\r\n")) handedOver = true;
    });
    upstream.on("data", (buf) => {
      if (!handedOver) client.write(buf);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("a database error after the provider accepted (item 1)", () => {
  let h: EngineHarness;
  beforeEach(async () => {
    h = await startEngineHarness({
      providers: { email: createProvider("email", { url: smtp.url, from: "Shop <s@pp.test>" }) },
      sendRetry: { attempts: 3, backoffMs: 100 },
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it("records the send once the database answers again; the email is not sent a second time", async () => {
    // A real database error on the record: the first UPDATE that marks a message SENT fails
    // (a sequence, not a table: it must not roll back with the failing statement).
    await h.db.prisma.$executeRawUnsafe(`CREATE SEQUENCE issue13_fail_once`);
    await h.db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION issue13_fail_once() RETURNS trigger AS $$
      BEGIN
        IF nextval('issue13_fail_once') = 1 THEN
          RAISE EXCEPTION 'injected: connection to the database lost while recording';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await h.db.prisma.$executeRawUnsafe(`
      CREATE TRIGGER issue13_fail_once BEFORE UPDATE ON "Message"
      FOR EACH ROW WHEN (NEW.status = 'SENT') EXECUTE FUNCTION issue13_fail_once()`);
    const { journeyId } = await h.publish("thanks", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m" },
      { id: "m", type: "action.email", data: { subject: "Thanks", body: "Hi" }, next: "end" },
    ]);
    await h.customer("ann", { email: "ann@example.com" });
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase" });
    const run = await waitFor("run completes", () =>
      h.db.prisma.journeyRun.findFirst({ where: { journeyId, status: "COMPLETED" } }),
    );
    await waitFor("send queue idle", async () => {
      const c = await h.ctx.queues.sends.getJobCounts("active", "waiting", "delayed");
      return (c.active ?? 0) + (c.waiting ?? 0) + (c.delayed ?? 0) === 0;
    });
    const msg = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
    expect(msg).toMatchObject({ status: "SENT", attempts: 1, error: null });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]?.idempotencyKey).toBe(msg.idempotencyKey);
    const kinds = (
      await h.db.prisma.runTrace.findMany({ where: { runId: run.id, stepId: "m" } })
    ).map((t) => t.kind);
    expect(kinds.filter((k) => k === "message.sent")).toHaveLength(1);
    expect(kinds).not.toContain("message.retry");
    expect((await nodeCounts(h.ctx, h.workspaceId, journeyId)).m?.sent).toBe(1);
  });
});

describe("a worker SIGKILLed between the provider's acceptance and the record (item 3)", () => {
  let db: TestDatabase;
  let h: EngineHarness;
  let child: ChildProcess | null = null;

  beforeEach(async () => {
    sink.deliveries.length = 0;
    sink.processed.clear();
    db = await createTestDatabase();
    // The in-process workers stand in for "another worker" once the child is dead; they reach
    // the receivers directly.
    h = await startEngineHarness({
      db,
      workers: false,
      providers: {
        email: createProvider("email", { url: smtp.url, from: "Shop <s@pp.test>" }),
        webhook: createProvider("webhook", { secret: "s", timeoutMs: 5000 }),
      },
    });
  });
  afterEach(async () => {
    child?.kill("SIGKILL");
    child = null;
    sink.setReply(() => ({ status: 200, body: { ok: true } }));
    await h.close();
    await db.drop();
  });

  function spawnWorker(extra: Record<string, unknown>): ChildProcess {
    const config = {
      databaseUrl: db.url,
      redisUrl: "redis://127.0.0.1:6379",
      prefix: h.prefix,
      concurrency: 5,
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
      sweepEveryMs: 0,
      sweepGraceMs: 60_000,
      ...extra,
    };
    const c = spawn(process.execPath, ["--import", "tsx", ENTRY, JSON.stringify(config)], {
      cwd: PACKAGE_DIR,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child = c;
    return c;
  }

  async function runFinished(journeyId: string) {
    const run = await waitFor("the run to finish", () =>
      h.db.prisma.journeyRun.findFirst({ where: { journeyId, status: "COMPLETED" } }),
    );
    await waitFor("send queue idle", async () => {
      const c = await h.ctx.queues.sends.getJobCounts("active", "waiting", "delayed");
      return (c.active ?? 0) + (c.waiting ?? 0) + (c.delayed ?? 0) === 0;
    });
    return run;
  }

  const journey = (send: StepSpec): StepSpec[] => [
    { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m" },
    { ...send, id: "m", next: "after" },
    { id: "after", type: "action.tag", data: { add: ["after"] }, next: "end" },
  ];

  it("at most once (email's default): not sent again; the message is UNCERTAIN, traced, counted and listed", async () => {
    const proxy = await withholdingProxy({ host: smtp.host, port: smtp.port });
    try {
      const { journeyId } = await h.publish(
        "thanks",
        journey({ id: "m", type: "action.email", data: { subject: "Thanks", body: "Hi" } }),
      );
      await h.customer("ann", { email: "ann@example.com" });
      const worker = spawnWorker({ smtpUrl: proxy.url });
      await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase" });
      await smtp.waitFor(1, { timeoutMs: 120_000 }); // the mailbox has it; the worker waits for "250"
      expect(
        (await h.db.prisma.message.findFirstOrThrow({ where: { channel: "email" } })).status,
      ).toBe("SENDING");
      worker.kill("SIGKILL");
      await new Promise((r) => worker.once("exit", r));
      h.startWorkers({ lockDurationMs: 2000, stalledIntervalMs: 1000 });
      const run = await runFinished(journeyId);

      const msg = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
      expect(msg.status).toBe("UNCERTAIN");
      expect(msg.error).toMatch(/may or may not have been delivered/);
      expect(smtp.received).toHaveLength(1); // no second email
      const kinds = (
        await h.db.prisma.runTrace.findMany({ where: { runId: run.id }, orderBy: { id: "asc" } })
      ).map((t) => t.kind);
      expect(kinds).toContain("message.uncertain");
      expect(kinds).not.toContain("message.sent");
      // The journey continued, as after a send.
      const customer = await h.db.prisma.customer.findFirstOrThrow({
        where: { externalId: "ann" },
      });
      expect(customer.tags).toContain("after");
      expect((await nodeCounts(h.ctx, h.workspaceId, journeyId)).m?.uncertain).toBe(1);
      const dead = await listDeadLetters(h.ctx, { workspaceId: h.workspaceId });
      expect(dead.items.map((d) => [d.messageId, d.status])).toEqual([[msg.id, "UNCERTAIN"]]);
      // A person checks the customer got it and dismisses it: off the list and the badge, kept
      // in the message's history.
      await dismissMessage(h.ctx, msg.id, { workspaceId: h.workspaceId, actorId: null });
      expect((await listDeadLetters(h.ctx, { workspaceId: h.workspaceId })).items).toEqual([]);
      expect((await nodeCounts(h.ctx, h.workspaceId, journeyId)).m?.uncertain).toBe(0);
      const dismissed = await h.db.prisma.message.findFirstOrThrow({ where: { id: msg.id } });
      expect(dismissed.status).toBe("UNCERTAIN");
      expect(dismissed.history).toEqual([
        expect.objectContaining({ status: "UNCERTAIN", action: "dismiss" }),
      ]);
    } finally {
      await proxy.close();
    }
  }, 240_000);

  it("at least once (a webhook's default): sent again with the same key, recorded once", async () => {
    let first = true;
    sink.setReply(() => {
      if (first) {
        first = false;
        return "hang"; // received; the answer never comes back to the worker we kill
      }
      return { status: 200, body: { ok: true } };
    });
    const { journeyId } = await h.publish(
      "hook",
      journey({
        id: "m",
        type: "action.webhook",
        data: { url: `${sink.url}/hook`, body: '{"c":"{{ customer.externalId }}"}' },
      }),
    );
    await h.customer("bob");
    const worker = spawnWorker({ webhookTimeoutMs: 110_000 });
    await track(h.ctx, h.workspaceId, { userId: "bob", event: "purchase" });
    await waitFor("the receiver has the webhook", () =>
      Promise.resolve(sink.deliveries.length === 1),
    );
    worker.kill("SIGKILL");
    await new Promise((r) => worker.once("exit", r));
    h.startWorkers({ lockDurationMs: 2000, stalledIntervalMs: 1000 });
    const run = await runFinished(journeyId);

    const msg = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
    expect(msg.status).toBe("SENT");
    expect(sink.deliveries.map((d) => d.key)).toEqual([msg.idempotencyKey, msg.idempotencyKey]);
    const traces = await h.db.prisma.runTrace.findMany({ where: { runId: run.id } });
    expect(traces.filter((t) => t.kind === "message.resending")).toHaveLength(1);
    expect(traces.filter((t) => t.kind === "message.sent")).toHaveLength(1);
  }, 240_000);

  it("a step can ask for at most once on a webhook: one delivery, UNCERTAIN", async () => {
    sink.setReply(() => "hang");
    const { journeyId } = await h.publish(
      "hook-amo",
      journey({
        id: "m",
        type: "action.webhook",
        data: { url: `${sink.url}/hook`, body: "{}", delivery: "atMostOnce" },
      }),
    );
    await h.customer("cy");
    const worker = spawnWorker({ webhookTimeoutMs: 110_000 });
    await track(h.ctx, h.workspaceId, { userId: "cy", event: "purchase" });
    await waitFor("the receiver has the webhook", () =>
      Promise.resolve(sink.deliveries.length === 1),
    );
    worker.kill("SIGKILL");
    await new Promise((r) => worker.once("exit", r));
    sink.setReply(() => ({ status: 200, body: { ok: true } }));
    h.startWorkers({ lockDurationMs: 2000, stalledIntervalMs: 1000 });
    const run = await runFinished(journeyId);
    const msg = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
    expect(msg.status).toBe("UNCERTAIN");
    expect(sink.deliveries).toHaveLength(1);
  }, 240_000);

  it("SIGTERM: in-flight sends finish and are recorded; none is left uncertain", async () => {
    const { journeyId } = await h.publish(
      "thanks",
      journey({ id: "m", type: "action.email", data: { subject: "Thanks", body: "Hi" } }),
    );
    for (let i = 0; i < 20; i++) await h.customer(`c${i}`, { email: `c${i}@example.com` });
    const worker = spawnWorker({ smtpUrl: smtp.url });
    for (let i = 0; i < 20; i++)
      await track(h.ctx, h.workspaceId, { userId: `c${i}`, event: "purchase" });
    await smtp.waitFor(1, { timeoutMs: 120_000 });
    worker.kill("SIGTERM");
    const code = await new Promise((r) => worker.once("exit", r));
    expect(code).toBe(0);
    expect(await h.db.prisma.message.count({ where: { status: "SENDING" } })).toBe(0);
    h.startWorkers({ lockDurationMs: 2000, stalledIntervalMs: 1000 });
    await waitFor("every run to finish", async () =>
      (await h.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } })) === 20
        ? true
        : null,
    );
    await waitFor("send queue idle", async () => {
      const c = await h.ctx.queues.sends.getJobCounts("active", "waiting", "delayed");
      return (c.active ?? 0) + (c.waiting ?? 0) + (c.delayed ?? 0) === 0;
    });
    expect(await h.db.prisma.message.count({ where: { status: "SENT" } })).toBe(20);
    expect(smtp.received).toHaveLength(20);
    expect(new Set(smtp.received.map((m) => m.idempotencyKey)).size).toBe(20);
  }, 240_000);
});
