// Issue 13, item 5: dead letters that can be replayed. A replay re-runs the failed step's send
// with what it needs (the stored rendered message, or the step's current template rendered
// again), keeps the original failure in the message's history, and runs ONE retry chain per send
// even while the sweeper looks for pending messages. Real Postgres, Redis, SMTP sink, HTTP receiver.
import { createProvider } from "@postpath/channels";
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import type { StepSpec } from "@postpath/journey";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { sweep } from "./maintenance.ts";
import { listDeadLetters, OperateError, replayMessage } from "./operate.ts";
import { sleep, startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { startSink, type Sink } from "./testing/sink.ts";

let smtp: SmtpSink;
let sink: Sink;
let h: EngineHarness;

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
beforeEach(async () => {
  sink.deliveries.length = 0;
  sink.processed.clear();
  h = await startEngineHarness({
    providers: {
      email: createProvider("email", { url: smtp.url, from: "Shop <s@pp.test>" }),
      webhook: createProvider("webhook", { secret: "s", timeoutMs: 2000 }),
    },
    sendRetry: { attempts: 3, backoffMs: 100 },
  });
});
afterEach(async () => {
  sink.setReply(() => ({ status: 200, body: { ok: true } }));
  await h.close();
});

async function idle() {
  await waitFor("send queue idle", async () => {
    const c = await h.ctx.queues.sends.getJobCounts("active", "waiting", "delayed");
    return (c.active ?? 0) + (c.waiting ?? 0) + (c.delayed ?? 0) === 0;
  });
}

// Renders past Liquid's memory limit: publishes (it parses), fails every time it is rendered.
const POISONED = "{% for i in (1..100000000) %}xxxxxxxxxx{% endfor %}";

const emailJourney = (body: string): StepSpec[] => [
  { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m" },
  { id: "m", type: "action.email", data: { subject: "Thanks", body, format: "text" }, next: "end" },
];

describe("dead-letter replay", () => {
  it("a poisoned template, fixed and published, then replayed with the current template: delivered; the original failure stays in the history", async () => {
    const { journeyId } = await h.publish("thanks", emailJourney(POISONED));
    await h.customer("ann", { email: "ann@example.com", first_name: "Ann" });
    await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase" });
    const run = await waitFor("run ends", () =>
      h.db.prisma.journeyRun.findFirst({ where: { journeyId, status: "COMPLETED" } }),
    );
    const failed = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
    expect(failed.status).toBe("FAILED");
    const original = failed.error;
    expect(original).toMatch(/memory/);
    const [letter] = (
      await listDeadLetters(h.ctx, { workspaceId: h.workspaceId, includeFailed: true })
    ).items;
    expect(letter).toMatchObject({ messageId: failed.id, rendered: false });

    // Nothing was rendered: "as it was" cannot be sent, and says so.
    const refused = await replayMessage(h.ctx, failed.id, {
      workspaceId: h.workspaceId,
      render: "stored",
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OperateError);
    expect((refused as OperateError).message).toMatch(/current template/);
    // Still unfixed: rendering again fails, and nothing changes.
    await expect(
      replayMessage(h.ctx, failed.id, { workspaceId: h.workspaceId, render: "current" }),
    ).rejects.toThrow(/still cannot be rendered/);
    expect(await h.db.prisma.message.findFirstOrThrow({ where: { id: failed.id } })).toMatchObject({
      status: "FAILED",
      error: original,
    });

    // The marketer fixes the template and publishes version 2 (same step); the admin replays.
    await h.publish(
      "thanks",
      emailJourney("Hello {{ customer.first_name }}, thanks!"),
      {},
      journeyId,
    );
    await replayMessage(h.ctx, failed.id, { workspaceId: h.workspaceId, actorId: null });
    const sent = await waitFor("the replay is sent", async () => {
      const m = await h.db.prisma.message.findFirstOrThrow({ where: { id: failed.id } });
      return m.status === "SENT" ? m : null;
    });
    await idle();
    expect(smtp.received).toHaveLength(1);
    // A marketing email (the default, issue 16): the unsubscribe footer follows the body.
    expect(smtp.received[0]?.text).toMatch(
      /^Hello Ann, thanks!\n\n--\nDon't want these emails\? Unsubscribe: http:\/\/pp\.test\/u\/\S+\n?$/,
    );
    expect(smtp.received[0]?.idempotencyKey).toBe(failed.idempotencyKey);
    expect(sent.history).toEqual([
      expect.objectContaining({
        status: "FAILED",
        error: original,
        action: "replay",
        render: "current",
      }),
    ]);
    const replayed = await h.db.prisma.runTrace.findFirstOrThrow({
      where: { runId: run.id, kind: "message.replayed" },
    });
    expect(replayed.detail).toMatchObject({ previous: "FAILED", previousError: original });
    // The run's own record of the original failure is still there too.
    expect(
      await h.db.prisma.runTrace.count({ where: { runId: run.id, kind: "send.failed" } }),
    ).toBe(1);
  });

  it("a webhook answering 500 forever: exactly the step's 6 attempts, and exactly 6 more after a replay, though the sweeper runs throughout", async () => {
    sink.setReply(() => ({ status: 500, body: { error: "down" } }));
    const { journeyId } = await h.publish("hook", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m" },
      {
        id: "m",
        type: "action.webhook",
        data: { url: `${sink.url}/hook`, body: "{}", retries: 5 },
        next: "end",
      },
    ]);
    await h.customer("bob");
    await track(h.ctx, h.workspaceId, { userId: "bob", event: "purchase" });
    const run = await waitFor("run ends", () =>
      h.db.prisma.journeyRun.findFirst({ where: { journeyId, status: "COMPLETED" } }),
    );
    const msg = await h.db.prisma.message.findFirstOrThrow({ where: { runId: run.id } });
    await idle();
    expect(msg).toMatchObject({ status: "DEAD", attempts: 6 });
    expect(sink.deliveries).toHaveLength(6);

    await replayMessage(h.ctx, msg.id, { workspaceId: h.workspaceId, render: "stored" });
    // The sweeper (grace 1 ms: every pending message looks overdue) runs over and over while the
    // replay retries; it must not start a second chain beside it.
    for (;;) {
      const m = await h.db.prisma.message.findFirstOrThrow({ where: { id: msg.id } });
      if (m.status === "DEAD") break;
      await sweep(h.ctx, 1, 0);
      await sleep(20);
    }
    await sweep(h.ctx, 1, 0);
    await idle();
    expect(sink.deliveries).toHaveLength(12);
    expect(new Set(sink.deliveries.map((d) => d.key))).toEqual(new Set([msg.idempotencyKey]));
    const after = await h.db.prisma.message.findFirstOrThrow({ where: { id: msg.id } });
    expect(after).toMatchObject({ status: "DEAD", attempts: 6 });
    expect(after.history).toEqual([
      expect.objectContaining({ status: "DEAD", attempts: 6, action: "replay" }),
    ]);
  });
});
