// The real worker process: it starts against a database and Redis, reports itself running, and
// shuts down cleanly on SIGTERM; without DATABASE_URL it refuses to start with a clear message.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import { createRedis } from "@postpath/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = path.join(import.meta.dirname, "main.ts");
const CWD = path.join(import.meta.dirname, "..");

function run(
  env: Record<string, string>,
  until: (out: string) => boolean,
): Promise<{ out: string; code: number | null; signalSent: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
      cwd: CWD,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let signalSent = false;
    const onData = (b: Buffer) => {
      out += b.toString();
      if (!signalSent && until(out)) {
        signalSent = true;
        child.kill("SIGTERM");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => resolve({ out, code, signalSent }));
  });
}

describe("apps/worker process", () => {
  let db: TestDatabase;
  const prefix = `w${randomBytes(4).toString("hex")}`;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
    const redis = createRedis("redis://127.0.0.1:6379");
    await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it("starts, runs, and exits 0 on SIGTERM", async () => {
    const r = await run(
      { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, LOG_LEVEL: "info", REDIS_AUTOSTART: "false" },
      (out) => out.includes("worker running"),
    );
    expect(r.signalSent).toBe(true);
    expect(r.code).toBe(0);
  }, 60_000);

  it("refuses to start without DATABASE_URL, saying why", async () => {
    const r = await run({ LOG_LEVEL: "silent", REDIS_AUTOSTART: "false" }, () => false);
    expect(r.code).toBe(1);
    expect(r.out).toContain("DATABASE_URL is not set");
  }, 60_000);
});
