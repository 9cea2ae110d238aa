// issue 12, finding 8: tRPC errors carried stacks with file paths, and raw database messages
// reached the client. Now an unexpected error answers a generic message with a request id; the
// log line with that id carries the real error. Errors meant for the user keep their message.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
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
    // A built web app with a source map beside its bundle, served as in production.
    const webDist = fs.mkdtempSync(path.join(os.tmpdir(), "pp-web-"));
    fs.mkdirSync(path.join(webDist, "assets"));
    fs.writeFileSync(path.join(webDist, "index.html"), "<!doctype html><title>Postpath</title>");
    fs.writeFileSync(
      path.join(webDist, "assets/app.js"),
      "console.log(1);\n//# sourceMappingURL=app.js.map",
    );
    fs.writeFileSync(
      path.join(webDist, "assets/app.js.map"),
      `{"sourcesContent":["secret source"]}`,
    );
    h = await startHarness({ log: pino({ level: "info" }, sink), app: { webDist } });
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

  it("source maps are not served unless asked for; the app and its bundle are", async () => {
    expect((await fetch(`${h.baseUrl}/assets/app.js`)).status).toBe(200);
    expect((await fetch(`${h.baseUrl}/journeys`)).status).toBe(200); // the SPA fallback
    for (const url of ["/assets/app.js.map", "/assets/app.js.map?v=1", "/app.js.map"]) {
      const res = await fetch(`${h.baseUrl}${url}`);
      expect(res.status, url).toBe(404);
      expect(await res.text(), url).not.toContain("secret source");
    }
  });
});
