// Does the HTTP server stay responsive while its in-process worker runs a hostile template?
// Starts the real server (apps/server/src/main.ts, worker inside, its own Redis and database),
// then measures /healthz latency in three phases of the same run:
//   idle     — nothing to do (the baseline);
//   benign   — customers going through an attribute-update step with an ordinary template;
//   hostile  — customers going through one whose template is a nested loop (about 4 million
//              turns: 31 s per customer on the unlimited renderer of before issue 12).
//   pnpm bench server-hostile-template [--seconds 10] [--customers 600]
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { enrolMany } from "@postpath/engine";
import type { StepSpec } from "@postpath/journey";
import { arg, fmt, openBench, percentile, publish, type BenchEnv } from "./_engine.ts";
import { freePort, stopGroup } from "./_process.ts";

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, "..");
const NESTED = "{% for i in (1..2000) %}{% for j in (1..2000) %}{{ i }}{% endfor %}{% endfor %}";
const BENIGN = "{{ first_name | upcase }} ({{ tier }})";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(env: BenchEnv): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(resolve(here, "node_modules/.bin/tsx"), ["apps/server/src/main.ts"], {
    cwd: REPO,
    // Its own process group: tsx runs the server in a child process, and both must stop.
    detached: true,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      DATABASE_URL: env.db.url,
      REDIS_URL: env.redisUrl,
      REDIS_AUTOSTART: "false",
      QUEUE_PREFIX: env.prefix,
      HOST: "127.0.0.1",
      PORT: String(port),
      SEED_DEMO: "false",
      LOG_LEVEL: "error",
      RUN_WORKER: "true",
      POSTPATH_MASTER_KEY: randomBytes(32).toString("base64"),
      WEB_DIST: "/nonexistent",
    },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  stopGroup(child, "SIGKILL");
  throw new Error("the server did not start within 60 s");
}

/** /healthz one request after another (20 ms apart) for `seconds`; latencies in ms. */
async function probe(url: string, seconds: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    const res = await fetch(`${url}/healthz`);
    await res.arrayBuffer();
    out.push(performance.now() - t);
    await sleep(20);
  }
  return out.sort((a, b) => a - b);
}

function journey(template: string): StepSpec[] {
  return [
    { id: "t", type: "trigger.manual", next: "a" },
    { id: "a", type: "action.attribute", data: { set: { label: template } }, next: "x" },
    { id: "x", type: "flow.exit" },
  ];
}

/** Enrols customers into the journey in batches of 25 every 250 ms (100 a second) until stopped. */
function feed(env: BenchEnv, ids: { journeyId: string; versionId: string }, customers: string[]) {
  let stop = false;
  let enrolled = 0;
  const done = (async () => {
    while (!stop && enrolled < customers.length) {
      const batch = customers.slice(enrolled, enrolled + 25);
      enrolled += batch.length;
      await enrolMany(env.ctx, {
        workspaceId: env.workspaceId,
        ...ids,
        customerIds: batch,
        trigger: { eventId: "bench", name: "enrolled", properties: {}, timestamp: Date.now() },
      });
      await sleep(250);
    }
  })();
  return {
    async stop() {
      stop = true;
      await done;
      return enrolled;
    },
  };
}

async function ended(env: BenchEnv, journeyId: string): Promise<number> {
  return env.db.prisma.journeyRun.count({
    where: { journeyId, status: { in: ["COMPLETED", "EXITED", "FAILED"] } },
  });
}

export default async function main(args: string[]): Promise<void> {
  const seconds = arg(args, "seconds", 10);
  const n = arg(args, "customers", 600);
  const env = await openBench();
  let server: ChildProcess | undefined;
  try {
    const benign = await publish(env, journey(BENIGN));
    const hostile = await publish(env, journey(NESTED));
    await env.db.prisma.$executeRaw`
      INSERT INTO "Customer" (id, "workspaceId", "externalId", timezone, attributes, "updatedAt")
      SELECT 'c' || lpad(g::text, 9, '0'), ${env.workspaceId}, 'u' || g, 'UTC',
             jsonb_build_object('first_name', 'Ann', 'tier', 'gold'), now()
      FROM generate_series(1, ${n}) AS g`;
    const customers = (
      await env.db.prisma.customer.findMany({
        where: { workspaceId: env.workspaceId },
        select: { id: true },
        orderBy: { id: "asc" },
      })
    ).map((c) => c.id);

    const started = await startServer(env);
    server = started.child;
    await probe(started.url, 1); // warm-up (connections, JIT)

    const rows: { phase: string; ms: number[]; runs: string }[] = [];
    rows.push({ phase: "idle (baseline)", ms: await probe(started.url, seconds), runs: "—" });
    for (const [phase, ids] of [
      ["benign template", benign],
      ["hostile nested loop", hostile],
    ] as const) {
      const f = feed(env, ids, customers);
      const before = performance.now();
      const ms = await probe(started.url, seconds);
      const enrolled = await f.stop();
      const finished = await ended(env, ids.journeyId);
      const perSecond = (finished / (performance.now() - before)) * 1000;
      rows.push({
        phase,
        ms,
        runs: `${fmt(finished)} of ${fmt(enrolled)} ended (${fmt(perSecond, 1)}/s)`,
      });
    }
    const [{ failed } = { failed: 0 }] = await env.db.prisma.$queryRaw<{ failed: number }[]>`
      SELECT count(*)::int AS failed FROM "RunTrace" t JOIN "JourneyRun" r ON r.id = t."runId"
      WHERE r."journeyId" = ${hostile.journeyId} AND t.kind = 'attributes.failed'`;

    const base = percentile(rows[0]!.ms, 99);
    console.log(
      `/healthz latency while the in-process worker runs an attribute-update step, ${seconds} s per phase`,
    );
    console.log(
      "phase                  requests     p50 ms     p99 ms     max ms  p99 / idle  runs",
    );
    for (const r of rows) {
      const p99 = percentile(r.ms, 99);
      console.log(
        `${r.phase.padEnd(22)} ${fmt(r.ms.length).padStart(8)} ${fmt(percentile(r.ms, 50), 1).padStart(10)} ${fmt(p99, 1).padStart(10)} ${fmt(r.ms[r.ms.length - 1] ?? NaN, 1).padStart(10)} ${`${fmt(p99 / base, 1)}×`.padStart(11)}  ${r.runs}`,
      );
    }
    console.log(
      `hostile runs whose step failed on the template limit (trace attributes.failed): ${fmt(failed)}`,
    );
  } finally {
    if (server) {
      // A clean stop waits for the runs in flight; then whatever is left is killed.
      const exited = new Promise((r) => server?.once("exit", r));
      stopGroup(server, "SIGTERM");
      await Promise.race([exited, sleep(30_000)]);
      stopGroup(server, "SIGKILL");
    }
    await env.close();
  }
}
