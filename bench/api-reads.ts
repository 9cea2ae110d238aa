// API reads (issue 15, item 4): the journey list, the editor load and the canvas's node counts
// through the real server (apps/server/src/main.ts, its own redis-server, worker elsewhere) over
// HTTP with a session cookie from the real sign-in, at a fixed offered rate, against a raw Fastify
// server doing one indexed `pg` query of the same data (bench/_raw-api-reads.ts), in the same run.
//   - the data: a dedicated database (`postpath_bench_api_reads`), seeded once and reused by later
//     runs when it holds the same sizes: 1,000 journeys (a gallery template's draft, two published
//     versions each: one superseded, one live), 10 million JourneyRun rows spread over them
//     (75 % completed, 11 % exited, 1 % failed, 12 % waiting, 1 % active) and StepCounter rollups;
//   - the procedures: `journeys.list`; the editor load as JourneyPage sends it (one batch of
//     `journeys.get` + `auth.me`); `operate.nodeCounts` (its 3 s refresh while the editor is open);
//   - the load: `--rate` requests a second for `--seconds`, each started on its schedule over
//     keep-alive connections (node:http Agent); latency from the scheduled start (no coordinated
//     omission).
//   pnpm bench api-reads [--journeys 1000] [--runs 10000000] [--rate 200] [--seconds 15] [--reseed]
//                        [--only list|editor|counts] [--profile]
// --only measures the phases whose name contains that word (several: --only list,counts);
// --profile runs the real server with --cpu-prof and prints where its CPU time went.
// Goal from issue 15: p99 ≤ 50 ms at 200 req/s for each.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate, openDatabase, type Database } from "@postpath/db";
import { TEST_SERVER_URL } from "@postpath/db/testing";
import { compile, templates } from "@postpath/journey";
import { hashPassword } from "../packages/api/src/auth.ts";
import { cpuSnapshot } from "./_cpu.ts";
import { summariseProfile } from "./_profile.ts";
import { arg, fmt, percentile, startRedisServer } from "./_engine.ts";
import { freePort, groupPids, stopGroup, terminate } from "./_process.ts";

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, "..");
const DB_NAME = "postpath_bench_api_reads";
const WS = "ws-api-reads";
const EMAIL = "bench-reads@example.com";
const PASSWORD = "correct horse battery staple 15";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  terminate(child);
  await Promise.race([exited, sleep(30_000)]);
  stopGroup(child, "SIGKILL");
}

async function waitReady(url: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 900; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not start within 90 s`);
}

// ---- the database -------------------------------------------------------------------------------

function dbUrl(name: string): string {
  const u = new URL(TEST_SERVER_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function onServer<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ url: TEST_SERVER_URL, poolSize: 1 });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * The marker written last by a complete seeding: the workspace's name names the seeding's version
 * and sizes (v2: run statuses vary within each journey; v1 gave each journey's runs one status).
 */
const seededName = (journeys: number, runs: number) =>
  `API reads bench v2: ${journeys} journeys, ${runs} runs`;

async function openSeeded(
  journeys: number,
  runs: number,
  reseed: boolean,
): Promise<{ db: Database; seededIn: number | null }> {
  const exists = await onServer(
    async (s) =>
      (await s.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [DB_NAME])).length > 0,
  );
  if (exists && !reseed) {
    const db = await openDatabase({ url: dbUrl(DB_NAME) });
    await migrate(db); // migrations added since it was seeded (new indexes)
    const ws = await db.query<{ name: string }>(`SELECT name FROM "Workspace" WHERE id = $1`, [WS]);
    if (ws[0]?.name === seededName(journeys, runs)) return { db, seededIn: null };
    await db.close();
  }
  await onServer(async (s) => {
    await s.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
    await s.query(`CREATE DATABASE "${DB_NAME}"`);
  });
  const db = await openDatabase({ url: dbUrl(DB_NAME) });
  await migrate(db);
  const t0 = performance.now();
  await seed(db, journeys, runs);
  return { db, seededIn: (performance.now() - t0) / 1000 };
}

async function seed(db: Database, journeys: number, runs: number): Promise<void> {
  const template = templates.find((t) => t.id === "post-purchase-series") ?? templates[0]!;
  const compiled = compile(template.draft);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const plan = compiled.plan;
  const steps = Object.values(plan.steps);
  const waitStep = steps.find((s) => s.type.startsWith("wait."))?.id ?? plan.triggerStepId;
  const exitStep = steps.find((s) => s.type === "flow.exit")?.id ?? plan.triggerStepId;
  const actionStep = steps.find((s) => s.type.startsWith("action."))?.id ?? plan.triggerStepId;
  const draft = JSON.stringify(template.draft);
  const planJson = JSON.stringify(plan);
  const customers = Math.min(100_000, Math.max(1, Math.ceil(runs / journeys)));
  const log = (what: string, t: number) =>
    console.log(`  ${what} in ${fmt((performance.now() - t) / 1000, 1)} s`);

  let t = performance.now();
  await db.query(
    `INSERT INTO "Workspace" (id, name, slug) VALUES ($1, 'seeding', 'api-reads-bench')`,
    [WS],
  );
  await db.query(
    `INSERT INTO "User" (id, "workspaceId", email, name, role, "passwordHash")
     VALUES ('u-api-reads', $1, $2, 'Bench Reader', 'ADMIN', $3)`,
    [WS, EMAIL, await hashPassword(PASSWORD)],
  );
  await db.query(
    `INSERT INTO "Customer" (id, "workspaceId", "externalId", email, attributes, "updatedAt")
     SELECT 'c' || g, $1, 'user-' || g, 'person' || g || '@example.com',
            jsonb_build_object('first_name', 'Ann', 'plan', 'gold'), now()
     FROM generate_series(0, $2::int - 1) AS g`,
    [WS, customers],
  );
  // Journeys: 85 % live, 5 % paused, 5 % stopped, 5 % archived; updated over the last 100 days.
  await db.query(
    `INSERT INTO "Journey" (id, "workspaceId", name, status, draft, "draftRevision", "createdAt", "updatedAt")
     SELECT 'j' || g, $1, 'Post-purchase series ' || g,
            (CASE WHEN g % 20 = 1 THEN 'PAUSED' WHEN g % 20 = 2 THEN 'STOPPED'
                  WHEN g % 20 = 3 THEN 'ARCHIVED' ELSE 'LIVE' END)::"JourneyStatus",
            $2::jsonb, 3, now() - interval '200 days', now() - (g % 1000) * interval '100 minutes'
     FROM generate_series(0, $3::int - 1) AS g`,
    [WS, draft, journeys],
  );
  await db.query(
    `INSERT INTO "JourneyVersion" (id, "journeyId", "workspaceId", version, status, "schemaVersion",
                                   plan, document, "triggerType", "triggerEvent", "publishedAt")
     SELECT 'v' || g || '-' || n, 'j' || g, $1, n,
            (CASE WHEN n = 2 THEN 'LIVE' ELSE 'SUPERSEDED' END)::"VersionStatus", $2::int,
            $3::jsonb, $4::jsonb, $5, $6, now() - (3 - n) * interval '30 days'
     FROM generate_series(0, $7::int - 1) AS g, generate_series(1, 2) AS n`,
    [
      WS,
      plan.schemaVersion,
      planJson,
      draft,
      steps.find((s) => s.id === plan.triggerStepId)?.type ?? "trigger.event",
      "order_completed",
      journeys,
    ],
  );
  log(`workspace, user, ${fmt(customers)} customers, ${fmt(journeys)} journeys × 2 versions`, t);

  // Runs, in chunks of 1 M. Run g belongs to journey g % journeys (journeys' runs interleave in
  // time, as they do when they run side by side), to its version 1 or 2 by turns, and to a
  // customer that is distinct within the journey. The secondary indexes are dropped meanwhile and
  // built again from the migrations' own definitions afterwards (inserting into seven b-trees
  // row by row took ~3 min per million rows on the shared machine).
  t = performance.now();
  const indexes = await db.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
     WHERE tablename = 'JourneyRun' AND indexname <> 'JourneyRun_pkey'`,
  );
  for (const ix of indexes) await db.query(`DROP INDEX "${ix.name}"`);
  const chunk = 1_000_000;
  for (let from = 0; from < runs; from += chunk) {
    const to = Math.min(runs, from + chunk) - 1;
    await db.query(
      `INSERT INTO "JourneyRun" (id, "workspaceId", "journeyId", "versionId", "customerId", "entryNumber",
                                 status, "currentStepId", state, trigger, seq, "waitingUntil",
                                 "startedAt", "updatedAt", "endedAt")
       SELECT 'r' || g, $1, 'j' || (g % $2), 'v' || (g % $2) || '-' || (1 + (g / $2) % 2),
              'c' || (((g / $2) * 7 + g % $2) % $3), 1, s.status::"RunStatus",
              CASE s.status WHEN 'WAITING' THEN $4 WHEN 'ACTIVE' THEN $5
                            WHEN 'COMPLETED' THEN $6 ELSE $4 END,
              CASE WHEN s.status IN ('WAITING', 'ACTIVE')
                   THEN jsonb_build_object('vars', jsonb_build_object('coupon', 'SAVE' || g % 1000), 'branch', 'a')
              END,
              jsonb_build_object('name', 'order_completed', 'timestamp', 1764800000000 + g,
                                 'properties', jsonb_build_object('order_id', 'o' || g, 'revenue', g % 300)),
              3,
              CASE WHEN s.status = 'WAITING' THEN now() + (g % 7) * interval '1 day' END,
              now() - (($7::int - g) % 500) * interval '1 hour', now() - (g % 500) * interval '1 hour',
              CASE WHEN s.status IN ('COMPLETED', 'EXITED', 'FAILED') THEN now() - (g % 400) * interval '1 hour' END
       FROM generate_series($8::int, $9::int) AS g,
            LATERAL (SELECT (37 * (g / $2) + g % $2) % 100 AS b) h,
            LATERAL (SELECT CASE WHEN h.b < 75 THEN 'COMPLETED' WHEN h.b < 86 THEN 'EXITED'
                                 WHEN h.b < 87 THEN 'FAILED' WHEN h.b < 99 THEN 'WAITING'
                                 ELSE 'ACTIVE' END AS status) s`,
      [WS, journeys, customers, waitStep, actionStep, exitStep, runs, from, to],
    );
    process.stdout.write(`  runs: ${fmt(to + 1)} of ${fmt(runs)}\r`);
  }
  log(`${fmt(runs)} runs`, t);
  t = performance.now();
  for (const ix of indexes) await db.exec(`SET maintenance_work_mem = '512MB'; ${ix.def}`);
  log(`${indexes.length} secondary indexes of JourneyRun built`, t);

  // Rollups as the engine keeps them: per version, step and shard (8 shards); every step entered
  // by each version's runs (a simplification: the figures' sizes matter here, not their shape).
  t = performance.now();
  const perShard = Math.max(1, Math.round(runs / journeys / 2 / 8));
  await db.query(
    `INSERT INTO "StepCounter" ("versionId", "stepId", shard, "journeyId", entered, completed, sent, failed, converted)
     SELECT v.id, st.key, sh, v."journeyId", $1::int, $1::int,
            CASE WHEN st.value->>'type' LIKE 'action.%' THEN $1::int ELSE 0 END,
            CASE WHEN st.value->>'type' LIKE 'action.%' THEN $1::int / 100 ELSE 0 END,
            CASE WHEN st.value->>'type' = 'flow.goal' THEN $1::int / 10 ELSE 0 END
     FROM "JourneyVersion" v, jsonb_each(v.plan->'steps') st, generate_series(0, 7) AS sh
     WHERE v."workspaceId" = $2`,
    [perShard, WS],
  );
  log("step counters", t);
  t = performance.now();
  // Visibility map and statistics, as autovacuum leaves them on a table of this age.
  await db.query(`VACUUM ANALYZE "JourneyRun"`);
  await db.query(
    `ANALYZE "Journey"; ANALYZE "JourneyVersion"; ANALYZE "StepCounter"; ANALYZE "Customer"`,
  );
  log("VACUUM ANALYZE", t);
  await db.query(`UPDATE "Workspace" SET name = $2 WHERE id = $1`, [
    WS,
    seededName(journeys, runs),
  ]);
}

// ---- the servers ----------------------------------------------------------------------------------

async function startServer(dbUrlValue: string, redisUrl: string, profileDir?: string) {
  const port = await freePort();
  const child = spawn(
    resolve(here, "node_modules/.bin/tsx"),
    [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), "src/main.ts"],
    {
      cwd: resolve(REPO, "apps/server"), // as `pnpm start` runs it
      detached: true, // its own process group: tsx runs the server in a child process
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        DATABASE_URL: dbUrlValue,
        REDIS_URL: redisUrl,
        REDIS_AUTOSTART: "false",
        QUEUE_PREFIX: "bench",
        HOST: "127.0.0.1",
        PORT: String(port),
        SEED_DEMO: "false",
        LOG_LEVEL: "error",
        RUN_WORKER: "false", // reads only: the worker would run elsewhere
        NODE_ENV: "development",
        POSTPATH_MASTER_KEY: randomBytes(32).toString("base64"),
        WEB_DIST: "/nonexistent",
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/healthz`, child, "the server");
  return { url, child };
}

async function startRaw(dbUrlValue: string) {
  const port = await freePort();
  const child = spawn(
    resolve(here, "node_modules/.bin/tsx"),
    [resolve(here, "_raw-api-reads.ts"), dbUrlValue, String(port)],
    { detached: true, stdio: ["ignore", "ignore", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/list?ws=${WS}`, child, "the raw Fastify server");
  return { url, child };
}

// ---- the load generator -----------------------------------------------------------------------

type Req = {
  path: string;
  method?: "GET" | "POST";
  body?: string;
  headers?: http.OutgoingHttpHeaders;
};
type Res = { status: number; body: string; headers: http.IncomingHttpHeaders };

function send(agent: http.Agent, base: string, r: Req, keepBody = false): Promise<Res> {
  return new Promise((ok, fail) => {
    const req = http.request(
      `${base}${r.path}`,
      {
        agent,
        method: r.method ?? "GET",
        headers: {
          ...(r.body !== undefined
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(r.body) }
            : {}),
          ...r.headers,
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => keepBody && chunks.push(c));
        res.on("end", () =>
          ok({
            status: res.statusCode ?? 0,
            body: keepBody ? Buffer.concat(chunks).toString() : "",
            headers: res.headers,
          }),
        );
        res.on("error", fail);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out after 30 s")));
    req.on("error", fail);
    req.end(r.body);
  });
}

type Result = { ms: number[]; errors: Map<string, number>; late: number };

/** `rate` requests a second for `seconds`, each started on schedule; latency from the schedule. */
async function openLoop(base: string, next: () => Req, rate: number, seconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const ms: number[] = [];
  const errors = new Map<string, number>();
  const total = Math.round(rate * seconds);
  const pending: Promise<void>[] = [];
  let late = 0;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait - 1);
    while (performance.now() < due) {
      // spin for the last millisecond
    }
    if (performance.now() - due > 5) late++;
    pending.push(
      send(agent, base, next()).then(
        (res) => {
          if (res.status !== 200)
            errors.set(String(res.status), (errors.get(String(res.status)) ?? 0) + 1);
          ms.push(performance.now() - due);
        },
        (err: Error) => {
          errors.set(err.message, (errors.get(err.message) ?? 0) + 1);
          ms.push(performance.now() - due);
        },
      ),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return { ms: ms.sort((a, b) => a - b), errors, late } satisfies Result;
}

// ---- main -------------------------------------------------------------------------------------

export default async function apiReads(args: string[]): Promise<void> {
  const journeys = arg(args, "journeys", 1000);
  const runs = arg(args, "runs", 10_000_000);
  const rate = arg(args, "rate", 200);
  const seconds = arg(args, "seconds", 15);
  const onlyAt = args.indexOf("--only");
  const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? "").split(",").filter(Boolean) : [];
  const profileDir = args.includes("--profile")
    ? fs.mkdtempSync(resolve(os.tmpdir(), "api-reads-prof-"))
    : undefined;

  const { db, seededIn } = await openSeeded(journeys, runs, args.includes("--reseed"));
  console.log(
    seededIn === null
      ? `database ${DB_NAME}: reused (already seeded with ${fmt(journeys)} journeys, ${fmt(runs)} runs)`
      : `database ${DB_NAME}: seeded ${fmt(journeys)} journeys, ${fmt(runs)} runs in ${fmt(seededIn, 1)} s`,
  );
  const redis = await startRedisServer();
  let server: ChildProcess | undefined;
  let raw: ChildProcess | undefined;
  try {
    const started = await startServer(dbUrl(DB_NAME), redis.url, profileDir);
    server = started.child;
    const rawStarted = await startRaw(dbUrl(DB_NAME));
    raw = rawStarted.child;
    const serverPids = groupPids(server);
    const rawPids = groupPids(raw);

    // Sign in through the real auth: the session cookie every request then carries.
    const agent = new http.Agent({ keepAlive: true });
    const signIn = await send(
      agent,
      started.url,
      {
        path: "/trpc/auth.signIn",
        method: "POST",
        body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
        headers: { "x-postpath-client": "web" },
      },
      true,
    );
    const setCookie = [signIn.headers["set-cookie"] ?? []].flat().join(";");
    const cookie = /pp_session=[^;]+/.exec(setCookie)?.[0];
    if (signIn.status !== 200 || !cookie)
      throw new Error(`sign-in answered ${signIn.status}: ${signIn.body.slice(0, 300)}`);
    const headers = { cookie };

    const live = await db.query<{ id: string; version: string }>(
      `SELECT j.id, v.id AS version FROM "Journey" j JOIN "JourneyVersion" v
           ON v."journeyId" = j.id AND v.status = 'LIVE'
         WHERE j."workspaceId" = $1 AND j.status = 'LIVE' ORDER BY j.id`,
      [WS],
    );
    let i = 0;
    const pick = () => live[i++ % live.length]!;
    const enc = (v: unknown) => encodeURIComponent(JSON.stringify(v));

    // Each phase checks its first answer (right data, 200) before it is measured.
    const phases: {
      name: string;
      ours: () => Req;
      raw: () => Req;
      check: (body: string) => boolean;
    }[] = [
      {
        // The first page, as the list page asks for it (JOURNEYS_PER_PAGE in apps/web).
        name: "journeys.list (first 50)",
        ours: () => ({ path: `/trpc/journeys.list?input=${enc({ limit: 50 })}`, headers }),
        raw: () => ({ path: `/list?ws=${WS}` }),
        check: (b) => (JSON.parse(b) as { result: { data: unknown[] } }).result.data.length > 0,
      },
      {
        name: "editor load (journeys.get + auth.me)",
        ours: () => ({
          path: `/trpc/journeys.get,auth.me?batch=1&input=${enc({ 0: { id: pick().id } })}`,
          headers,
        }),
        raw: () => ({ path: `/journey?ws=${WS}&id=${pick().id}` }),
        check: (b) => {
          const [get, me] = JSON.parse(b) as {
            result: { data: { draft?: unknown; email?: string } };
          }[];
          return Boolean(get?.result.data.draft) && me?.result.data.email === EMAIL;
        },
      },
      {
        name: "operate.nodeCounts",
        ours: () => ({
          path: `/trpc/operate.nodeCounts?input=${enc({ journeyId: pick().id })}`,
          headers,
        }),
        raw: () => ({ path: `/counts?version=${pick().version}` }),
        check: (b) =>
          Object.values(
            (JSON.parse(b) as { result: { data: Record<string, { entered: number }> } }).result
              .data,
          ).some((c) => c.entered > 0),
      },
    ];

    const cpuOf = (pids: number[], f: () => Promise<Result>) => async () => {
      const before = cpuSnapshot(pids);
      const r = await f();
      const after = cpuSnapshot(pids);
      let node = 0;
      let pgCpu = 0;
      for (const [pid, v] of after ?? []) {
        const d = v.seconds - (before?.get(pid)?.seconds ?? 0);
        if (v.group === "node (worker processes)") node += d;
        if (v.group === "postgres") pgCpu += d;
      }
      return {
        ...r,
        cpu: `${fmt((node * 1000) / r.ms.length, 2)} / ${fmt((pgCpu * 1000) / r.ms.length, 2)}`,
      };
    };

    const load = () =>
      os
        .loadavg()
        .map((l) => fmt(l, 1))
        .join(" ");
    console.log(
      `${fmt(rate)} req/s for ${seconds} s each; ${fmt(live.length)} live journeys rotated; load average before: ${load()}`,
    );
    const rows: string[][] = [];
    const summary: string[] = [];
    const aliases: Record<string, string> = {
      list: "journeys.list",
      editor: "editor load",
      counts: "nodeCounts",
    };
    for (const ph of phases) {
      if (only.length && !only.some((o) => ph.name.includes(aliases[o] ?? o))) continue;
      const first = await send(agent, started.url, ph.ours(), true);
      if (first.status !== 200 || !ph.check(first.body))
        throw new Error(`${ph.name} answered ${first.status}: ${first.body.slice(0, 400)}`);
      const firstRaw = await send(agent, rawStarted.url, ph.raw(), true);
      if (firstRaw.status !== 200) throw new Error(`raw ${ph.name}: ${firstRaw.status}`);
      // Warm-up (JIT, plan caches, connection pools), then raw and ours in turn.
      await openLoop(rawStarted.url, ph.raw, rate, 2);
      await openLoop(started.url, ph.ours, rate, 2);
      const rawR = await cpuOf(rawPids, () => openLoop(rawStarted.url, ph.raw, rate, seconds))();
      const ours = await cpuOf(serverPids, () => openLoop(started.url, ph.ours, rate, seconds))();
      const p = (r: Result, q: number) => fmt(percentile(r.ms, q), 1);
      const errs = (r: Result) =>
        r.errors.size ? [...r.errors].map(([k, v]) => `${k}×${v}`).join(" ") : "0";
      rows.push([
        ph.name,
        p(ours, 50),
        p(ours, 99),
        fmt(ours.ms[ours.ms.length - 1] ?? NaN, 1),
        p(rawR, 50),
        p(rawR, 99),
        `${fmt(percentile(ours.ms, 99) / percentile(rawR.ms, 99), 1)}×`,
        ours.cpu,
        rawR.cpu,
        `${errs(ours)} / ${errs(rawR)}`,
        fmt(ours.late + rawR.late),
        fmt(Buffer.byteLength(first.body)),
      ]);
      summary.push(`${ph.name}: p99 ${p(ours, 99)} ms (goal ≤ 50), load ${load()}`);
    }
    agent.destroy();
    const head = [
      "procedure",
      "p50 ms",
      "p99 ms",
      "max ms",
      "raw p50",
      "raw p99",
      "p99 ratio",
      "CPU ms/req node/pg",
      "raw CPU ms/req",
      "errors ours/raw",
      "late",
      "bytes",
    ];
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    const pad = (r: string[]) =>
      r.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join("  ");
    console.log(pad(head));
    for (const r of rows) console.log(pad(r));
    for (const s of summary) console.log(s);
    console.log(`load average after: ${load()} (${os.cpus().length} cores)`);
  } finally {
    if (raw) await stop(raw);
    if (server) await stop(server);
    redis.child.kill("SIGKILL");
    await db.close();
  }
  if (profileDir) {
    console.log(`\nserver CPU profile (self time by package; ${profileDir}):`);
    for (const line of summariseProfile(profileDir, "main thread (HTTP):")) console.log(line);
  }
}
