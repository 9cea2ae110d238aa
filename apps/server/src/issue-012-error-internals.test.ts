// issue 12, finding 8: tRPC errors carried stacks with file paths, and raw database messages
// reached the client. Now an unexpected error answers a generic message with a request id; the
// log line with that id carries the real error. Errors meant for the user keep their message.
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, type Harness } from "./testing/harness.ts";

describe("issue-012-error-internals", () => {
  let h: Harness;
  const logs: string[] = [];
  let api: ReturnType<typeof trpcHttp>;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    });
    h = await startHarness({ log: pino({ level: "info" }, sink) });
    api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.admin)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("an unexpected database error: no stack, no database message, a request id that is in the log", async () => {
    // A real database failure the procedure does not expect: its table is gone.
    await h.db.prisma.$executeRawUnsafe(`ALTER TABLE "ApiKey" RENAME TO "ApiKey_gone"`);
    let res: Awaited<ReturnType<typeof api.query>>;
    let header: string | null;
    try {
      const raw = await fetch(`${h.baseUrl}/trpc/apiKeys.list`, {
        headers: { cookie: api.cookie },
      });
      header = raw.headers.get("x-request-id");
      res = { status: raw.status, body: await raw.json() };
    } finally {
      await h.db.prisma.$executeRawUnsafe(`ALTER TABLE "ApiKey_gone" RENAME TO "ApiKey"`);
    }
    expect(res.status).toBe(500);
    const error = res.body.error as { message: string; data: Record<string, unknown> };
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/ApiKey_gone|"ApiKey"|does not exist|relation|prisma|postgres/i);
    expect(text).not.toMatch(/\.ts\b|\/work\/|node_modules|\n\s+at /);
    expect(error.data.stack).toBeUndefined();
    expect(error.data.code).toBe("INTERNAL_SERVER_ERROR");
    const requestId = error.data.requestId as string;
    expect(requestId).toMatch(/^[0-9a-f]{16}$/);
    expect(header).toBe(requestId);
    expect(error.message).toContain(requestId);
    expect(error.message).toMatch(/went wrong on our side/);
    // The log line with the same request id has the real error (and the stack, for us).
    const line = logs.find((l) => l.includes(requestId) && l.includes("tRPC error"));
    expect(line, logs.join("")).toBeDefined();
    expect(line).toMatch(/ApiKey/);
    expect(line).toMatch(/does not exist/);
    // Still answers afterwards.
    expect((await api.query("apiKeys.list")).status).toBe(200);
  });

  it("errors meant for the user keep their message and name the field, without a stack", async () => {
    const res = await api.mutation("journeys.create", { name: "   " });
    expect(res.status).toBe(400);
    expect(res.body.error.data.stack).toBeUndefined();
    expect(res.body.error.data.fieldErrors).toEqual([
      { path: "name", message: "Give the journey a name" },
    ]);
    const missing = await api.query("journeys.get", { id: "no-such-journey" });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("No journey with that id in this workspace.");
    expect(missing.body.error.data.stack).toBeUndefined();
  });
});
