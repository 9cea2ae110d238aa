// Starts the real app for the specs: a fresh Postgres database, `pnpm --filter @postpath/server
// start` (migrations, demo seed, Fastify + in-process worker, the built web app) on a free port,
// and a teardown that stops the server's whole process group and drops the database.
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { startSmtpSink } from "@postpath/channels/testing";
import pg from "pg";

const E2E_DIR = import.meta.dirname;
const REPO_ROOT = path.resolve(E2E_DIR, "..");
const WEB_INDEX = path.join(REPO_ROOT, "apps/web/dist/index.html");
const HEALTH_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;
/** Server output kept in memory for error messages (all of it also goes to the log file). */
const TAIL_BYTES = 16_000;

function adminUrl(): string {
  return process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
}

function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("could not pick a free port"))));
    });
  });
}

/** True once the child has exited (or was killed). */
function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(child)) return true;
  return Promise.race([
    new Promise<boolean>((resolve) => child.once("exit", () => resolve(true))),
    sleep(ms).then(() => false),
  ]);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || hasExited(child)) return;
  try {
    // The server was started detached, so its pid is its process group: pnpm, tsx and node all stop.
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  killGroup(child, "SIGTERM");
  if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
    killGroup(child, "SIGKILL");
    await waitForExit(child, 5_000);
  }
}

async function dropDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Removes the BullMQ keys the run left in Redis, when redis-cli is at hand. */
async function clearQueueKeys(prefix: string): Promise<void> {
  const run = promisify(execFile);
  const target = process.env.REDIS_URL ? ["-u", process.env.REDIS_URL] : [];
  try {
    const { stdout } = await run("redis-cli", [...target, "--scan", "--pattern", `${prefix}:*`]);
    const keys = stdout.split("\n").filter(Boolean);
    for (let i = 0; i < keys.length; i += 500)
      await run("redis-cli", [...target, "del", ...keys.slice(i, i + 500)]);
  } catch {
    // No redis-cli or no Redis: the keys stay, harmlessly, under their unique prefix.
  }
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(WEB_INDEX)) {
    throw new Error(
      `The web app is not built (${WEB_INDEX} is missing). Run: pnpm --filter @postpath/web build`,
    );
  }

  const suffix = randomBytes(4).toString("hex");
  const dbName = `postpath_e2e_${suffix}`;
  const queuePrefix = `e2e${suffix}`;
  await withAdmin((client) => client.query(`CREATE DATABASE "${dbName}"`));

  // A temporary data folder (the server writes the demo write key there) and a real SMTP sink that
  // writes each message it receives to mailDir, where the specs (other processes) read them.
  const dataDir = mkdtempSync(path.join(tmpdir(), "postpath-e2e-"));
  const mailDir = path.join(dataDir, "mail");
  const sink = await startSmtpSink({ dir: mailDir });

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const logDir = path.join(E2E_DIR, "test-results");
  mkdirSync(logDir, { recursive: true });
  const logPath = path.join(logDir, "server.log");
  const log = createWriteStream(logPath);
  let tail = "";

  const child = spawn("pnpm", ["--filter", "@postpath/server", "start"], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl(dbName),
      PORT: String(port),
      HOST: "127.0.0.1",
      QUEUE_PREFIX: queuePrefix,
      SEED_DEMO: "true",
      PUBLIC_URL: baseUrl,
      POSTPATH_DATA_DIR: dataDir,
      SMTP_URL: sink.url,
      // The specs' webhook receivers listen on 127.0.0.1, a private address.
      OUTBOUND_ALLOW_HOSTS: "127.0.0.1",
    },
  });
  const record = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
  };
  child.stdout?.on("data", record);
  child.stderr?.on("data", record);

  const teardown = async () => {
    await stopServer(child);
    log.end();
    await dropDatabase(dbName);
    await clearQueueKeys(queuePrefix);
    await sink.close();
    rmSync(dataDir, { recursive: true, force: true });
  };

  const started = Date.now();
  try {
    const deadline = started + HEALTH_TIMEOUT_MS;
    for (;;) {
      if (hasExited(child)) {
        throw new Error(
          `The server exited (code ${child.exitCode ?? child.signalCode}) before /healthz answered:\n${tail}`,
        );
      }
      try {
        const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
        if (res.status === 200) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new Error(
          `/healthz did not answer 200 within ${HEALTH_TIMEOUT_MS / 1000} s. Server output:\n${tail}`,
        );
      }
      await sleep(250);
    }
  } catch (err) {
    await teardown();
    throw err;
  }

  process.env.E2E_BASE_URL = baseUrl;
  process.env.E2E_DATABASE_URL = databaseUrl(dbName);
  process.env.E2E_DATA_DIR = dataDir;
  process.env.E2E_MAIL_DIR = mailDir;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `e2e: server healthy after ${seconds} s at ${baseUrl}, database ${dbName}, log ${path.relative(process.cwd(), logPath)}\n`,
  );
  return teardown;
}
