// issue 15, item 7: deploy/compose.yaml stays true to what the server accepts. The server and
// worker services' environment (the shared anchor and each service's own keys) is read from the
// file, Compose's ${VAR…} substitutions filled with example values, and parsed by the same
// parseEnv start-up uses: an unknown or misspelt variable, or a malformed value, fails here
// instead of at a customer's first deploy.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Env, parseEnv } from "./env.ts";

const compose = fs.readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../deploy/compose.yaml"),
  "utf8",
);

const EXAMPLES: Record<string, string> = {
  POSTGRES_PASSWORD: "pg-secret",
  REPLICATION_PASSWORD: "repl-secret",
  POSTPATH_HOST: "postpath.example.com",
  SMTP_URL: "smtp://mailer:pw@smtp.example.com:587",
  EMAIL_FROM: "Shop <news@example.com>",
};

/** `${NAME}`, `${NAME:-default}`, `${NAME:?message}` → the example value (or the default). */
const substitute = (v: string) =>
  v.replace(
    /\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g,
    (_m, name: string, op?: string, rest?: string) =>
      EXAMPLES[name] ?? (op === "-" ? (rest ?? "") : ""),
  );

/** The `KEY: value` lines of a block: from a line matching `start` to the next `end`. */
function envBlock(start: RegExp, end: RegExp): Record<string, string> {
  const lines = compose.split("\n");
  const from = lines.findIndex((l) => start.test(l));
  expect(from, String(start)).toBeGreaterThanOrEqual(0);
  const out: Record<string, string> = {};
  for (const line of lines.slice(from + 1)) {
    if (end.test(line)) break;
    const m = /^\s+([A-Z][A-Z0-9_]*):\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = substitute(m[2]!.replace(/^"(.*)"$/, "$1"));
  }
  return out;
}

describe("deploy/compose.yaml", () => {
  const shared = envBlock(/^x-postpath-env:/, /^services:/);
  const server = envBlock(/^ {2}server:/, /^ {2}worker:/);
  const worker = envBlock(/^ {2}worker:/, /^ {2}proxy:/);

  it("names only variables the server knows", () => {
    const known = new Set(Object.keys(Env.shape));
    for (const name of Object.keys({ ...shared, ...server, ...worker }))
      expect(known.has(name), `${name} is not a Postpath setting`).toBe(true);
    expect(Object.keys(shared)).toEqual(
      expect.arrayContaining(["DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "PUBLIC_URL"]),
    );
  });

  it("gives servers and workers settings that parse, and splits HTTP from jobs", () => {
    const s = parseEnv({ ...shared, ...server });
    const w = parseEnv({ ...shared, ...worker });
    expect(s.RUN_WORKER).toBe(false);
    expect(s.TRUST_PROXY).toBe(true);
    expect(w.RUN_WORKER).toBe(true);
    expect(s.PUBLIC_URL).toBe("https://postpath.example.com");
    expect(s.DATABASE_URL).toBe("postgresql://postpath:pg-secret@postgres:5432/postpath");
    expect(s.DATABASE_REPLICA_URL).toMatch(/@postgres-replica:5432\/postpath$/);
    expect(s.SEED_DEMO).toBe(false);
    expect(s.NODE_ENV).toBe("production");
    // No secret in the file itself: the master key comes from a Compose secret.
    expect(s.POSTPATH_MASTER_KEY).toBeUndefined();
    expect(s.POSTPATH_MASTER_KEY_FILE).toBe("/run/secrets/postpath_master_key");
  });

  it("gives both Postgres servers shared buffers and WAL beyond the defaults (128 MB, 1 GB)", () => {
    // bench/README.md, engine-lateness: at 128 MB due timers ran up to ~360 ms late at 10,000/s;
    // at a 1 GB max_wal_size, 6 checkpoints in 60 s at 10,000/s (100 µs of Postgres per step,
    // p99 372 ms late), none at 8 GB (84 µs, p99 164 ms).
    const primary = envBlock(/^ {2}postgres:/, /^ {4}volumes:/);
    const replica = envBlock(/^ {2}postgres-replica:/, /^ {4}volumes:/);
    for (const [name, env] of [
      ["postgres", primary],
      ["postgres-replica", replica],
    ] as const) {
      const flag = /(?:^|\s)-c shared_buffers=(\d+)GB(?:\s|$)/.exec(
        env.POSTGRESQL_EXTRA_FLAGS ?? "",
      );
      expect(flag, `${name}: POSTGRESQL_EXTRA_FLAGS sets shared_buffers in GB`).not.toBeNull();
      expect(Number(flag![1]), name).toBeGreaterThanOrEqual(1);
      const wal = /(?:^|\s)-c max_wal_size=(\d+)GB(?:\s|$)/.exec(env.POSTGRESQL_EXTRA_FLAGS ?? "");
      expect(wal, `${name}: POSTGRESQL_EXTRA_FLAGS sets max_wal_size in GB`).not.toBeNull();
      expect(Number(wal![1]), name).toBeGreaterThanOrEqual(4);
    }
  });
});
