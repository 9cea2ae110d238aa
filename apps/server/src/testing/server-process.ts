// The real server (main.ts) as a child process on a test database and the machine's Redis, for
// tests about what a process does as a whole: start-up, its worker thread, a SIGKILL mid-burst.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import type { TestDatabase } from "@postpath/db/testing";

const serverDir = path.resolve(import.meta.dirname, "../..");
const main = path.resolve(serverDir, "src/main.ts");

/**
 * main.ts as `pnpm start` runs it: one node process with tsx's loader (`node --import tsx`), so a
 * signal reaches the server itself. (The `tsx` command runs it in a child process and SIGKILLs
 * that child when it has not acknowledged a relayed SIGTERM within 60 ms, as when its event loop
 * is busy: the graceful shutdown would then depend on the machine's load.)
 */
export const serverCommand = {
  command: process.execPath,
  args: ["--import", "tsx", main],
  cwd: serverDir,
} as const;
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** A workspace with an ingest write key; returns the key's plain text. */
export async function workspaceWithWriteKey(
  db: TestDatabase,
  name: string,
  key: { rateLimitPerMinute?: number } = {},
): Promise<string> {
  const plain = `pp_${randomBytes(12).toString("hex")}`;
  const ws = await db.prisma.workspace.create({
    data: { name, slug: `${name.toLowerCase()}-${Date.now()}` },
  });
  await db.prisma.apiKey.create({
    data: {
      workspaceId: ws.id,
      name: name.toLowerCase(),
      prefix: plain.slice(0, 8),
      keyHash: createHash("sha256").update(plain).digest("hex"),
      ...key,
    },
  });
  return plain;
}

/**
 * Starts main.ts (`serverCommand`) in a process group of its own (so `killGroup` ends it and
 * anything it started), listening on 127.0.0.1:`port`, without the demo seed or the web app.
 */
export function spawnServer(opts: {
  db: TestDatabase;
  port: number;
  runWorker: boolean;
  stdout: "pipe" | "ignore";
  /** More settings (e.g. HTTP_PROCESSES). */
  env?: Record<string, string>;
}): ChildProcess {
  return spawn(serverCommand.command, serverCommand.args, {
    cwd: serverCommand.cwd,
    detached: true,
    stdio: ["ignore", opts.stdout, "inherit"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
      DATABASE_URL: opts.db.url,
      REDIS_URL,
      REDIS_AUTOSTART: "false",
      QUEUE_PREFIX: `proc-${randomBytes(4).toString("hex")}`,
      HOST: "127.0.0.1",
      PORT: String(opts.port),
      SEED_DEMO: "false",
      LOG_LEVEL: "error",
      RUN_WORKER: String(opts.runWorker),
      POSTPATH_MASTER_KEY: randomBytes(32).toString("base64"),
      WEB_DIST: "/nonexistent",
      ...opts.env,
    },
  });
}

/** SIGKILLs the child's whole process group (the server and anything it started); nothing if it is gone. */
export function killGroup(child: ChildProcess | undefined): void {
  try {
    if (child?.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  } catch {
    // gone
  }
}
