// A provider that answers 500, times out, hangs or drops the connection: the send retries with
// backoff (same idempotency key every time), then the step's on-error policy applies. Nothing is
// duplicated: one outbox row per run step, at most one 2xx per key at the receiver.
import { createProvider } from "@postpath/channels";
import type { StepSpec } from "@postpath/journey";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { track } from "./ingest.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { startSink, type Sink } from "./testing/sink.ts";

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
  // Provider timeout 500 ms; 3 attempts from 100 ms backoff.
  h = await startEngineHarness({
    providers: { webhook: createProvider("webhook", { secret: "s", timeoutMs: 500 }) },
    sendRetry: { attempts: 3, backoffMs: 100 },
  });
});
afterEach(async () => {
  await h.close();
});

async function runJourney(
  onError: "continue" | "errorBranch" | "exit",
  extra: Record<string, unknown> = {},
) {
  const steps: StepSpec[] = [
    { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "m" },
    {
      id: "m",
      type: "action.webhook",
      data: {
        url: `${sink.url}/hook`,
        body: '{"c":"{{ customer.externalId }}"}',
        onError,
        ...extra,
      },
      next: onError === "errorBranch" ? { next: "ok", error: "bad" } : "ok",
    },
    { id: "ok", type: "action.tag", data: { add: ["ok"] }, next: "end" },
    ...(onError === "errorBranch"
      ? [{ id: "bad", type: "action.tag" as const, data: { add: ["bad"] }, next: "end" }]
      : []),
  ];
  const { journeyId } = await h.publish(`j-${onError}`, steps);
  const customerId = await h.customer("ann");
  await track(h.ctx, h.workspaceId, { userId: "ann", event: "purchase" });
  const run = await waitFor("run end", async () => {
    const r = await h.db.prisma.journeyRun.findFirst({ where: { journeyId } });
    return r && ["COMPLETED", "EXITED", "FAILED"].includes(r.status) ? r : null;
  });
  const message = await h.db.prisma.message.findFirstOrThrow({
    where: { runId: run.id, channel: "webhook" },
  });
  const customer = await h.db.prisma.customer.findUniqueOrThrow({ where: { id: customerId } });
  const traces = (
    await h.db.prisma.runTrace.findMany({ where: { runId: run.id }, orderBy: { id: "asc" } })
  ).map((t) => t.kind);
  expect(await h.db.prisma.message.count({ where: { runId: run.id, channel: "webhook" } })).toBe(1);
  expect(new Set(sink.deliveries.map((d) => d.key))).toEqual(new Set([message.idempotencyKey]));
  return { run, message, tags: customer.tags, traces };
}

describe("provider failures", () => {
  it("500 on every attempt: 3 attempts, then the error branch; the message is a dead letter", async () => {
    sink.setReply(() => ({ status: 500, body: { error: "boom" } }));
    const r = await runJourney("errorBranch");
    expect(sink.deliveries).toHaveLength(3);
    expect(r.message).toMatchObject({ status: "DEAD", attempts: 3 });
    expect(r.message.error).toMatch(/HTTP 500/);
    expect(r.tags).toEqual(["bad"]);
    expect(r.traces.filter((k) => k === "message.retry")).toHaveLength(2);
    expect(r.run.status).toBe("COMPLETED");
  });

  it("500 then success: delivered once, the journey continues", async () => {
    sink.setReply((_d, attempt) =>
      sink.deliveries.length === 1 ? { status: 500 } : { status: 200, body: { attempt } },
    );
    const r = await runJourney("exit");
    expect(sink.deliveries).toHaveLength(2);
    expect([...sink.processed.values()]).toEqual([1]);
    expect(r.message).toMatchObject({ status: "SENT", attempts: 2 });
    expect(r.tags).toEqual(["ok"]);
  });

  it("a hanging provider times out, is retried, and exits the run per policy", async () => {
    sink.setReply(() => "hang");
    const r = await runJourney("exit");
    expect(sink.deliveries).toHaveLength(3);
    expect(r.message.status).toBe("DEAD");
    expect(r.message.error).toMatch(/timed out|timeout|abort/i);
    expect(r.run.status).toBe("EXITED");
    expect(r.traces.at(-1)).toBe("run.exited");
    expect(r.tags).toEqual([]);
  });

  it("a dropped connection then a slow-but-good answer: retried with the same key, sent once", async () => {
    sink.setReply(() => (sink.deliveries.length === 1 ? "destroy" : { status: 202 }));
    const r = await runJourney("continue");
    expect(sink.deliveries).toHaveLength(2);
    expect(r.message.status).toBe("SENT");
    expect(r.tags).toEqual(["ok"]);
  });

  it("a 400 is not retried: failed at once, the journey continues (onError: continue)", async () => {
    sink.setReply(() => ({ status: 400, body: { error: "bad payload" } }));
    const r = await runJourney("continue");
    expect(sink.deliveries).toHaveLength(1);
    expect(r.message).toMatchObject({ status: "FAILED", attempts: 1 });
    expect(r.traces).toContain("send.failed");
    expect(r.tags).toEqual(["ok"]);
  });

  it("a step's own retries (1): exactly 2 attempts, fewer than the engine's 3, then the error branch", async () => {
    sink.setReply(() => ({ status: 500, body: { error: "boom" } }));
    const r = await runJourney("errorBranch", { retries: 1 });
    expect(sink.deliveries).toHaveLength(2);
    expect(r.message).toMatchObject({ status: "DEAD", attempts: 2 });
    expect(r.traces.filter((k) => k === "message.retry")).toHaveLength(1);
    expect(r.traces.filter((k) => k === "message.failed")).toHaveLength(1);
    expect(r.tags).toEqual(["bad"]);
  });

  it("a step's own retries (4): exactly 5 attempts, more than the engine's 3, then the error branch", async () => {
    sink.setReply(() => ({ status: 500, body: { error: "boom" } }));
    const r = await runJourney("errorBranch", { retries: 4 });
    expect(sink.deliveries).toHaveLength(5);
    expect(r.message).toMatchObject({ status: "DEAD", attempts: 5 });
    expect(r.traces.filter((k) => k === "message.retry")).toHaveLength(4);
    expect(r.tags).toEqual(["bad"]);
  });

  it("retries: 0 means one attempt: the first 500 is final", async () => {
    sink.setReply(() => ({ status: 500 }));
    const r = await runJourney("exit", { retries: 0 });
    expect(sink.deliveries).toHaveLength(1);
    expect(r.message).toMatchObject({ status: "DEAD", attempts: 1 });
    expect(r.run.status).toBe("EXITED");
  });
});
