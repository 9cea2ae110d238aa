// Issue 15: ingest at line rate. In one run: a bare Fastify server that only parses the same JSON
// (the baseline, its own process), then the real server (apps/server/src/main.ts, its own process)
// on a fresh Postgres database and its own redis-server:
//   1. /v1/batch, 100 tracks per request, `--connections` concurrent, unique messageIds: events/s
//      acknowledged (stored) while sending, then events/s processed (Event.processedAt set; every
//      `--trigger-every`-th event enrols in a published journey; the others, product views that
//      nothing reads, are stored processed by ingest, and the figure says how many) — with 1 and 2
//      worker processes (the server's in-process worker, plus one apps/worker process);
//   2. /v1/track, one event per request, the same connections: events/s;
//   3. /v1/batch at a fixed offered rate (`--rate` events/s, 100 per request, sent on schedule
//      whatever the answers): p50/p99 per request;
//   4. with `--phases …,identify`: identify calls, unique messageIds, over the same customers —
//      /v1/batch of 100 identifies, then /v1/identify one per request: calls/s. With a worker,
//      each call's segment check has work to do (a live journey triggered by entering the inline
//      segment `plan = premium`, and one by entering a saved segment on the same attribute): the
//      batch part also reports calls/s processed, from its first request until the events queue
//      is empty.
//   5. with `--phases …,checks`: segment-check capacity beyond ingest's rate. A server without a
//      worker (RUN_WORKER=false) takes /v1/batch of 100 identifies for `--seconds`, so the events
//      queue fills with their segment checks (the same journeys as 4); then one apps/worker process
//      starts and drains them: customers checked per second, from the first check done until the
//      queue is empty (the worker's start-up is not counted), next to the raw baseline.
// The load generator runs in this process on the same machine: its CPU is part of the picture.
// Prints the load average before and after.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import fs from "node:fs";
import os, { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSince, cpuSnapshot } from "./_cpu.ts";
import {
  arg,
  fmt,
  openBench,
  percentile,
  PRODUCT_NODE_FLAGS,
  publish,
  type BenchEnv,
} from "./_engine.ts";
import { freePort, groupPids, stopGroup, terminate } from "./_process.ts";
import { summariseProfile } from "./_profile.ts";

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, "..");
const TSX = resolve(here, "node_modules/.bin/tsx");
/** How the server and worker processes are named in the CPU split. */
const SERVERS = "node (server and workers)";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnGroup(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // The V8 flags the product's start scripts give (through NODE_OPTIONS: tsx starts node itself).
  const nodeOptions = [process.env.NODE_OPTIONS, ...PRODUCT_NODE_FLAGS].filter(Boolean).join(" ");
  return spawn(TSX, args, {
    cwd: REPO,
    detached: true, // its own process group: tsx runs the script in a child process
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, NODE_OPTIONS: nodeOptions, ...env },
  });
}

async function waitUp(url: string, child: ChildProcess, path = "/healthz"): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode})`);
    try {
      const res = await fetch(`${url}${path}`, { method: path === "/healthz" ? "GET" : "POST" });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not start within 120 s`);
}

function serverEnv(env: BenchEnv, port: number, runWorker: boolean): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: env.db.url,
    REDIS_URL: env.redisUrl,
    REDIS_AUTOSTART: "false",
    QUEUE_PREFIX: env.prefix,
    HOST: "127.0.0.1",
    PORT: String(port),
    SEED_DEMO: "false",
    LOG_LEVEL: "error",
    RUN_WORKER: runWorker ? "true" : "false",
    POSTPATH_MASTER_KEY: randomBytes(32).toString("base64"),
    WEB_DIST: "/nonexistent",
  };
}

interface Target {
  url: URL;
  auth: string;
  agent: http.Agent;
}

function post(t: Target, path: string, body: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((ok, fail) => {
    const req = http.request(
      {
        host: t.url.hostname,
        port: t.url.port,
        path,
        method: "POST",
        agent: t.agent,
        headers: {
          authorization: t.auth,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => ok({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

let seq = 0;
const RUN = randomBytes(3).toString("hex");
function track(users: number, triggerEvery: number) {
  const n = seq++;
  return {
    type: "track",
    userId: `u${n % users}`,
    event: triggerEvery > 0 && n % triggerEvery === 0 ? "Order Completed" : "Product Viewed",
    properties: { sku: `SKU-${n % 500}`, price: 19.99, n },
    messageId: `${RUN}-${n}`,
  };
}
function identifyCall(users: number) {
  const n = seq++;
  return {
    type: "identify",
    userId: `u${n % users}`,
    traits: { email: `u${n % users}@example.com`, plan: n % 2 ? "basic" : "premium", visits: n },
    messageId: `${RUN}-${n}`,
  };
}
const batchBody = (users: number, triggerEvery: number) =>
  JSON.stringify({ batch: Array.from({ length: 100 }, () => track(users, triggerEvery)) });

/** `connections` loops sending one request after another for `seconds`; counts 2xx answers. */
async function closedLoop(
  t: Target,
  path: string,
  body: () => string,
  perRequest: number,
  connections: number,
  seconds: number,
): Promise<{ eventsPerSec: number; ok: number; failed: number; p50: number; p99: number }> {
  const end = performance.now() + seconds * 1000;
  const times: number[] = [];
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const r = await post(t, path, body()).catch(() => ({ status: 0, ms: 0 }));
        if (r.status >= 200 && r.status < 300) {
          ok++;
          times.push(r.ms);
        } else {
          failed++;
          if (failed === 1) console.log(`    first failure: HTTP ${r.status}`);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return {
    eventsPerSec: (ok * perRequest) / elapsed,
    ok,
    failed,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
  };
}

/** Open loop: a 100-event batch every 100/rate seconds, whatever the answers; latency per request. */
async function openLoop(
  t: Target,
  rate: number,
  seconds: number,
  users: number,
  triggerEvery: number,
): Promise<{ sent: number; ok: number; p50: number; p99: number; max: number }> {
  const interval = 100_000 / rate; // ms between requests
  const times: number[] = [];
  const pending: Promise<void>[] = [];
  let ok = 0;
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = t0 + sent * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const body = batchBody(users, triggerEvery);
    const scheduled = due;
    sent++;
    pending.push(
      post(t, "/v1/batch", body)
        .then((r) => {
          // From when it was due (coordinated omission: a late send counts its lateness).
          if (r.status === 200) {
            ok++;
            times.push(performance.now() - scheduled);
          }
        })
        .catch(() => undefined),
    );
  }
  await Promise.all(pending);
  times.sort((a, b) => a - b);
  return {
    sent,
    ok,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times[times.length - 1] ?? NaN,
  };
}

/**
 * Events stored, processed, and of those processed the ones stored already processed by ingest
 * (nothing in the workspace listens for their name: the same instant as their arrival).
 */
async function countEvents(
  env: BenchEnv,
): Promise<{ stored: number; processed: number; atIngest: number }> {
  const [r] = await env.db.query<{ stored: string; processed: string; atIngest: string }>(
    `SELECT count(*) AS stored, count("processedAt") AS processed,
            count(*) FILTER (WHERE "processedAt" = "receivedAt") AS "atIngest"
     FROM "Event"`,
  );
  return {
    stored: Number(r!.stored),
    processed: Number(r!.processed),
    atIngest: Number(r!.atIngest),
  };
}

async function waitProcessed(env: BenchEnv, maxSeconds: number): Promise<number> {
  const t0 = performance.now();
  let last = -1;
  let still = 0;
  for (;;) {
    const c = await countEvents(env);
    if (c.processed >= c.stored) return (performance.now() - t0) / 1000;
    if (c.processed === last) still++;
    else still = 0;
    last = c.processed;
    if (still > 60 || performance.now() - t0 > maxSeconds * 1000) {
      console.log(`    gave up waiting: ${fmt(c.processed)} of ${fmt(c.stored)} processed`);
      return NaN;
    }
    await sleep(250);
  }
}

/** Waits until the events queue (the segment checks) holds no job waiting or running; seconds. */
async function waitChecks(env: BenchEnv, maxSeconds: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const c = await env.ctx.queues.events.getJobCounts(
      "waiting",
      "active",
      "delayed",
      "prioritized",
    );
    const left = Object.values(c).reduce((a, b) => a + b, 0);
    if (left === 0) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > maxSeconds * 1000) {
      console.log(`    gave up waiting: ${fmt(left)} segment checks still queued`);
      return NaN;
    }
    await sleep(100);
  }
}

/**
 * What the identify calls' segment checks evaluate: a segment-triggered journey (inline
 * conditions) and a saved segment with a journey triggered by entering it, all on the `plan`
 * trait the calls alternate. Their journey ids (inline, saved).
 */
async function publishSegmentJourneys(env: BenchEnv): Promise<string[]> {
  const wait: Parameters<typeof publish>[1] = [
    { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "x" },
    { id: "x", type: "flow.exit" },
  ];
  const inline = await publish(env, [
    {
      id: "t",
      type: "trigger.segment",
      data: { conditions: [{ property: "plan", op: "eq", value: "premium" }] },
      next: "w",
    },
    ...wait,
  ]);
  const saved = await env.db.prisma.segment.create({
    data: {
      workspaceId: env.workspaceId,
      name: "Premium",
      definition: {
        match: "all",
        rules: [{ kind: "attribute", property: "plan", op: "eq", value: "premium" }],
      },
    },
  });
  const bySaved = await publish(env, [
    { id: "t", type: "trigger.segment", data: { segmentId: saved.id }, next: "w" },
    ...wait,
  ]);
  return [inline.journeyId, bySaved.journeyId];
}

/** An API key for the bench's workspace, as the Authorization header's value. */
async function apiKey(env: BenchEnv): Promise<string> {
  const key = `pp_${randomBytes(12).toString("hex")}`;
  await env.db.prisma.apiKey.create({
    data: {
      workspaceId: env.workspaceId,
      name: "bench",
      prefix: key.slice(0, 8),
      keyHash: createHash("sha256").update(key).digest("hex"),
      rateLimitPerMinute: 100_000_000,
    },
  });
  return `Basic ${Buffer.from(`${key}:`).toString("base64")}`;
}

/** The segment-check jobs waiting in the events queue: jobs, customers (and other jobs there). */
async function queuedChecks(
  env: BenchEnv,
): Promise<{ jobs: number; customers: number; other: number }> {
  let jobs = 0;
  let customers = 0;
  let other = 0;
  for (const j of await env.ctx.queues.events.getJobs(["waiting", "prioritized", "delayed"])) {
    const d = j.data as { customerId?: string; customerIds?: string[] };
    if (d.customerIds) customers += d.customerIds.length;
    else if (d.customerId) customers++;
    else {
      other++;
      continue;
    }
    jobs++;
  }
  return { jobs, customers, other };
}

/**
 * Phase 5: identify calls' segment checks queued with no worker running, then drained by one
 * worker process: customers checked per second.
 */
async function checksPhase(
  opts: { seconds: number; connections: number; users: number },
  raw: { batch: number; track: number },
  agent: () => http.Agent,
): Promise<void> {
  const env = await openBench();
  const children: ChildProcess[] = [];
  try {
    const segmentJourneys = await publishSegmentJourneys(env);
    const auth = await apiKey(env);
    const port = await freePort();
    const server = spawnGroup(["apps/server/src/main.ts"], serverEnv(env, port, false));
    children.push(server);
    const url = `http://127.0.0.1:${port}`;
    await waitUp(url, server);
    const t: Target = { url: new URL(url), auth, agent: agent() };
    const body = () =>
      JSON.stringify({ batch: Array.from({ length: 100 }, () => identifyCall(opts.users)) });
    const sent = await closedLoop(t, "/v1/batch", body, 100, opts.connections, opts.seconds);
    t.agent.destroy();
    const queued = await queuedChecks(env);
    console.log(
      `  segment checks, no worker running: ${fmt(sent.ok * 100)} identify calls in ${fmt(opts.seconds)} s (${fmt(sent.eventsPerSec)} calls/s) queued ${fmt(queued.jobs)} check jobs for ${fmt(queued.customers)} customers${queued.other ? ` (and ${fmt(queued.other)} other jobs)` : ""}`,
    );
    await env.db.exec(`ANALYZE "Customer", "SegmentMember", "SegmentMembership", "JourneyRun"`);
    const total = async () =>
      Object.values(
        await env.ctx.queues.events.getJobCounts("waiting", "active", "delayed", "prioritized"),
      ).reduce((a, b) => a + b, 0);
    const before = await total();
    const tStart = performance.now();
    const worker = spawnGroup(["apps/worker/src/main.ts"], serverEnv(env, port, true));
    children.push(worker);
    const pids = groupPids(worker);
    let cpu0 = cpuSnapshot(pids, "node (the worker)");
    // From the first check done (the worker's start-up not counted) until none is left.
    let t0 = NaN;
    let left = before;
    while (left > 0) {
      if (worker.exitCode !== null) throw new Error(`the worker exited (${worker.exitCode})`);
      if (performance.now() - tStart > 600_000) {
        console.log(`    gave up waiting: ${fmt(left)} check jobs still queued`);
        break;
      }
      await sleep(50);
      left = await total();
      if (Number.isNaN(t0) && left < before) {
        t0 = performance.now();
        cpu0 = cpuSnapshot(groupPids(worker), "node (the worker)");
      }
    }
    const t1 = performance.now();
    const drainS = (t1 - t0) / 1000;
    const runs = await Promise.all(
      segmentJourneys.map((journeyId) => env.db.prisma.journeyRun.count({ where: { journeyId } })),
    );
    console.log(
      `    one worker drained them in ${fmt(drainS, 1)} s after its first check (${fmt((t0 - tStart) / 1000, 1)} s to start): ${fmt(queued.customers / drainS)} customers checked/s, ${fmt(queued.jobs / drainS)} jobs/s (raw Fastify /v1/batch ${fmt(raw.batch)} events/s, /v1/track ${fmt(raw.track)} req/s; segment-triggered runs: ${runs.map((n) => fmt(n)).join(" inline, ")} saved)`,
    );
    console.log(
      `    CPU while draining: ${cpuSince(cpu0, t1 - t0, groupPids(worker), "node (the worker)")}`,
    );
  } finally {
    const exited = children.map((c) =>
      c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once("exit", r)),
    );
    for (const c of children) terminate(c);
    await Promise.race([Promise.all(exited), sleep(3000)]);
    for (const c of children) stopGroup(c);
    await env.close();
  }
}

const la = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");

export default async function main(args: string[]): Promise<void> {
  const seconds = arg(args, "seconds", 10);
  const connections = arg(args, "connections", 20);
  const users = arg(args, "users", 10_000);
  const triggerEvery = arg(args, "trigger-every", 10);
  const rate = arg(args, "rate", 10_000);
  // --profile: the server process (HTTP, and its worker thread with --workers 1+) runs with
  // --cpu-prof; where its CPU went is printed after each server stops.
  const profile = args.includes("--profile");
  // --phases batch,track,open,identify,checks (default the first three): which phases run.
  const phases = new Set(
    args.includes("--phases")
      ? String(args[args.indexOf("--phases") + 1]).split(",")
      : ["batch", "track", "open"],
  );
  const workerCounts = args.includes("--workers")
    ? String(args[args.indexOf("--workers") + 1])
        .split(",")
        .map(Number)
    : [1, 2];
  console.log(
    `engine-ingest: ${seconds} s per phase, ${connections} connections, ${fmt(users)} customers, every ${triggerEvery}th event enrols; load average ${la()}`,
  );

  // 1. The baseline.
  const rawPort = await freePort();
  const raw = spawnGroup(["bench/_raw-ingest.ts", String(rawPort)], {});
  const agent = () => new http.Agent({ keepAlive: true, maxSockets: connections });
  let rawBatch: Awaited<ReturnType<typeof closedLoop>>;
  let rawTrack: Awaited<ReturnType<typeof closedLoop>>;
  try {
    const url = `http://127.0.0.1:${rawPort}`;
    await waitUp(url, raw, "/v1/track");
    const t: Target = { url: new URL(url), auth: "Basic eDo=", agent: agent() };
    rawBatch = await closedLoop(
      t,
      "/v1/batch",
      () => batchBody(users, triggerEvery),
      100,
      connections,
      seconds,
    );
    const one = () => JSON.stringify(track(users, triggerEvery));
    rawTrack = await closedLoop(t, "/v1/track", one, 1, connections, seconds);
    t.agent.destroy();
  } finally {
    stopGroup(raw);
  }
  console.log(
    `  raw Fastify, parse only: /v1/batch ${fmt(rawBatch.eventsPerSec)} events/s (${fmt(rawBatch.eventsPerSec / 100)} req/s), /v1/track ${fmt(rawTrack.eventsPerSec)} req/s`,
  );

  const serverPhases = ["batch", "track", "open", "identify"].some((p) => phases.has(p));
  for (const workers of serverPhases ? workerCounts : []) {
    const env = await openBench();
    const children: ChildProcess[] = [];
    let profileDir: string | null = null;
    try {
      await publish(env, [
        {
          id: "t",
          type: "trigger.event",
          data: { event: "Order Completed", filters: [] },
          next: "w",
        },
        { id: "w", type: "wait.duration", data: { amount: 1, unit: "days" }, next: "x" },
        { id: "x", type: "flow.exit" },
      ]);
      const segmentJourneys: string[] = [];
      if (phases.has("identify") && workers > 0) {
        segmentJourneys.push(...(await publishSegmentJourneys(env)));
      }
      const auth = await apiKey(env);
      const port = await freePort();
      // --workers 0: the server alone (RUN_WORKER=false): ingest only, nothing processed.
      profileDir = profile ? fs.mkdtempSync(join(os.tmpdir(), "ingest-prof-")) : null;
      const server = spawnGroup(
        [
          ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
          "apps/server/src/main.ts",
        ],
        serverEnv(env, port, workers > 0),
      );
      children.push(server);
      for (let i = 1; i < workers; i++)
        children.push(spawnGroup(["apps/worker/src/main.ts"], serverEnv(env, port, true)));
      const url = `http://127.0.0.1:${port}`;
      await waitUp(url, server);
      await sleep(2000); // let the worker processes connect
      const t: Target = {
        url: new URL(url),
        auth,
        agent: agent(),
      };
      // Warm-up (prepared statements, plan cache, JIT), not counted.
      await closedLoop(t, "/v1/batch", () => batchBody(users, triggerEvery), 100, connections, 2);
      const serverPids = children.flatMap(groupPids);
      if (workers > 0) await waitProcessed(env, 120);
      // A store's tables have statistics (autovacuum analyzes them at most once a minute, after
      // this fresh database's first minute): without them Postgres read the same-day orders and
      // earlier events of the whole workspace per customer, which grew with every event sent.
      await env.db.exec(`ANALYZE "Event", "Order", "Customer", "JourneyRun"`);
      if (phases.has("batch")) {
        const cpu0 = cpuSnapshot(serverPids, SERVERS);
        const before = await countEvents(env);
        const t0 = performance.now();
        const batch = await closedLoop(
          t,
          "/v1/batch",
          () => batchBody(users, triggerEvery),
          100,
          connections,
          seconds,
        );
        const sendS = (performance.now() - t0) / 1000;
        const mid = await countEvents(env);
        if (workers > 0) await waitProcessed(env, 600);
        const allS = (performance.now() - t0) / 1000;
        const after = await countEvents(env);
        const n = after.stored - before.stored;
        const runs = await env.db.prisma.journeyRun.count();
        console.log(
          `  Postpath, ${workers} worker process${workers === 1 ? "" : "es"}${workers === 0 ? " (ingest only)" : ""}: /v1/batch ${fmt(batch.eventsPerSec)} events/s stored (${fmt((batch.eventsPerSec / rawBatch.eventsPerSec) * 100, 1)} % of raw; p50 ${fmt(batch.p50)} ms, p99 ${fmt(batch.p99)} ms per request${batch.failed ? `, ${batch.failed} failed` : ""}); processed ${fmt(n / allS)} events/s (${fmt(n)} events, ${fmt(mid.processed - before.processed)} processed while sending ${fmt(sendS, 1)} s, all by ${fmt(allS, 1)} s; ${fmt(after.atIngest - before.atIngest)} stored processed as nothing listens for them; ${fmt(runs)} runs in all)`,
        );
        console.log(
          `    CPU while sending and processing: ${cpuSince(cpu0, allS * 1000, serverPids, SERVERS)}`,
        );
      }
      if (workers === workerCounts[0] && phases.has("track")) {
        const one = () => JSON.stringify(track(users, triggerEvery));
        const cpu0 = cpuSnapshot(serverPids, SERVERS);
        const single = await closedLoop(t, "/v1/track", one, 1, connections, seconds);
        console.log(
          `    /v1/track ${fmt(single.eventsPerSec)} events/s (${fmt((single.eventsPerSec / rawTrack.eventsPerSec) * 100, 1)} % of raw; p50 ${fmt(single.p50, 1)} ms, p99 ${fmt(single.p99, 1)} ms${single.failed ? `, ${single.failed} failed` : ""}); CPU: ${cpuSince(cpu0, seconds * 1000, serverPids, SERVERS)}`,
        );
      }
      if (workers === workerCounts[0] && phases.has("identify")) {
        const cpu0 = cpuSnapshot(serverPids, SERVERS);
        const body = () =>
          JSON.stringify({ batch: Array.from({ length: 100 }, () => identifyCall(users)) });
        const t0 = performance.now();
        const many = await closedLoop(t, "/v1/batch", body, 100, connections, seconds);
        const cpu = cpuSince(cpu0, seconds * 1000, serverPids, SERVERS);
        if (workers > 0) {
          const sendS = (performance.now() - t0) / 1000;
          const drainedS = await waitChecks(env, 600);
          const allS = sendS + drainedS;
          const runs = await Promise.all(
            segmentJourneys.map((journeyId) =>
              env.db.prisma.journeyRun.count({ where: { journeyId } }),
            ),
          );
          console.log(
            `    identify checks: ${fmt(many.ok * 100)} calls in ${fmt(sendS, 1)} s, their segment checks all processed by ${fmt(allS, 1)} s: ${fmt((many.ok * 100) / allS)} calls/s processed (segment-triggered runs: ${runs.map((n) => fmt(n)).join(" inline, ")} saved)`,
          );
        }
        const one = () => JSON.stringify(identifyCall(users));
        const single = await closedLoop(t, "/v1/identify", one, 1, connections, seconds);
        console.log(
          `    identify: /v1/batch of 100 ${fmt(many.eventsPerSec)} calls/s (p50 ${fmt(many.p50)} ms, p99 ${fmt(many.p99)} ms per request${many.failed ? `, ${many.failed} failed` : ""}; CPU: ${cpu}); /v1/identify ${fmt(single.eventsPerSec)} calls/s (${fmt((single.eventsPerSec / rawTrack.eventsPerSec) * 100, 1)} % of raw /v1/track; p50 ${fmt(single.p50, 1)} ms, p99 ${fmt(single.p99, 1)} ms${single.failed ? `, ${single.failed} failed` : ""})`,
        );
      }
      if (workers === workerCounts[0] && phases.has("open")) {
        if (workers > 0) await waitProcessed(env, 600);
        const open = await openLoop(t, rate, seconds, users, triggerEvery);
        console.log(
          `    /v1/batch at ${fmt(rate)} events/s offered: ${fmt(open.ok)} of ${fmt(open.sent)} requests answered 200, p50 ${fmt(open.p50)} ms, p99 ${fmt(open.p99)} ms, max ${fmt(open.max)} ms per 100-event request`,
        );
      }
      t.agent.destroy();
    } finally {
      // SIGTERM first (a clean shutdown; profiles from --cpu-prof get written), then SIGKILL.
      const exited = children.map((c) =>
        c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once("exit", r)),
      );
      for (const c of children) terminate(c);
      // A profile is written when the process exits: give it the time a clean shutdown takes.
      await Promise.race([Promise.all(exited), sleep(profileDir ? 30_000 : 3000)]);
      for (const c of children) stopGroup(c);
      await env.close();
      if (profileDir) {
        console.log(`  server CPU profile (${profileDir}):`);
        for (const line of summariseProfile(profileDir, "main thread (HTTP, ingest):"))
          console.log(`    ${line}`);
      }
    }
  }
  if (phases.has("checks"))
    await checksPhase(
      { seconds, connections, users },
      { batch: rawBatch.eventsPerSec, track: rawTrack.eventsPerSec },
      agent,
    );
  console.log(`  load average at the end ${la()}`);
}
