// Start-up failures end with one clear line (no stack trace) naming what is wrong and where.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { serverCommand } from "./testing/server-process.ts";

function start(env: Record<string, string>) {
  const res = spawnSync(serverCommand.command, serverCommand.args, {
    cwd: serverCommand.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    encoding: "utf8",
    // A backstop against a hang only, like the suite's test timeout: on a busy machine tsx's
    // start (transforming main.ts and everything it imports) alone has taken over a minute.
    timeout: 300_000,
  });
  return { code: res.status, stderr: res.stderr.trim(), stdout: res.stdout.trim() };
}

describe("start-up errors", () => {
  it("names each malformed variable and the expected form, one line each", () => {
    const r = start({ PORT: "eighty", DATABASE_URL: "mysql://db", REDIS_URL: "http://x" });
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.includes("PORT="))).toMatch(/expected a port number/);
    expect(lines.find((l) => l.includes("DATABASE_URL="))).toMatch(
      /expected a URL like postgresql:\/\//,
    );
    expect(lines.find((l) => l.includes("REDIS_URL="))).toMatch(/expected a URL like redis:\/\//);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses more than one HTTP process without a PostgreSQL database, and a bad count", () => {
    const r = start({ HTTP_PROCESSES: "2", SEED_DEMO: "false" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^Postpath cannot start: HTTP_PROCESSES=2 needs DATABASE_URL: the embedded database lives in one process/,
    );
    expect(r.stderr.split("\n")).toHaveLength(1);
    const bad = start({ HTTP_PROCESSES: "0" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/HTTP_PROCESSES=.*expected a whole number of processes \(1 to 64\)/);
  });

  it("says which database it could not reach, and where", () => {
    const r = start({
      DATABASE_URL: "postgresql://postgres:s3cret@127.0.0.1:1/postpath",
      SEED_DEMO: "false",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^Postpath cannot start: Database unreachable at postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postpath/,
    );
    expect(r.stderr).not.toContain("s3cret");
    expect(r.stderr.split("\n")).toHaveLength(1);
  });

  it("says which Redis it could not reach when it may not start one", () => {
    const r = start({
      REDIS_URL: "redis://127.0.0.1:1",
      REDIS_AUTOSTART: "false",
      SEED_DEMO: "false",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^Postpath cannot start: Redis unreachable at redis:\/\/127\.0\.0\.1:1/,
    );
    expect(r.stderr.split("\n")).toHaveLength(1);
  });
});
