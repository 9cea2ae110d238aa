// Landing pages (issue 14): `/p/:token` rendered on the server, and form posts, against a raw
// Fastify server answering a static string, in the same run, each server in its own process.
// The real server (apps/server/src/main.ts as `pnpm start` runs it: the journey workers in a
// worker thread of the same process) runs on a fresh database and its own redis-server, seeded
// with a published page (heading with a Liquid greeting, product card, text, form) and N PURLs of
// a journey's PURL step as the engine stores them. Load comes from this process over keep-alive HTTP/1.1 connections (node:http):
//   - max req/s: closed loops for `--seconds` at each connection count of `--sweep`, latency p50/p99;
//   - a fixed offered rate (`--rate`, 200 req/s): requests start on schedule whatever the server
//     does, latency measured from the scheduled start (no coordinated omission);
//   - form submits: valid posts with fresh idempotency keys and the CSRF token read from each
//     link's rendered page, at most 8 per link and 20 per client address (X-Forwarded-For with
//     TRUST_PROXY, as behind a proxy) so the rate limits (10 a link, 30 an IP a minute) stay out
//     of the way; the raw baseline parses the same body and answers 303.
// Every GET of /p/:token is a visit (counted, traced, a `purl_visited` event queued): that is
// part of what is measured. Goals from the issue: p99 ≤ 20 ms at 200 req/s, ≥ 25 % of the raw
// static throughput.
//   pnpm bench landing-page [--purls 2000] [--seconds 10] [--connections 16] [--sweep 16,64,128]
//                           [--rate 200] [--submits 600] [--profile] [--production] [--no-worker]
//                           [--split 300] [--http-processes 1] [--rate-first]
// --rate-first runs the offered-rate phases before the max phases instead of after them.
// --http-processes N runs the server with HTTP_PROCESSES=N (node:cluster: N HTTP processes on one
// port, the first process supervising and running the workers) and the raw Fastify server as N
// cluster processes too, so both sides have the same number of processes.
// Max req/s is the best of the `--sweep` connection counts for each server (every point printed,
// the one taken marked), so each is measured at its own saturation; `--connections` is one of
// them and the share at it is printed too. `--sweep 16` measures as before 2026-12-05.
// --profile runs the real server with --cpu-prof and prints where its CPU time went, by package.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Prisma } from "@postpath/db";
import { visitPurl } from "@postpath/engine";
import {
  parsePublishedPage,
  stepTemplateRenderer,
  validatePageDocument,
  walkBlocks,
} from "@postpath/journey";
import { pageElement, type PageMetadata } from "../packages/pages/src/index.ts";
import { insertPurls } from "../apps/server/src/testing/print-run.ts";
import { cpuSince, cpuSnapshot } from "./_cpu.ts";
import { arg, fmt, openBench, percentile, publish, type BenchEnv } from "./_engine.ts";
import { freePort, groupPids, stopGroup } from "./_process.ts";
import { summariseProfile } from "./_profile.ts";

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PAGE = {
  root: { props: { title: "Register your machine, {{ customer.first_name }}", accent: "#1f5f8b" } },
  content: [
    {
      type: "Heading",
      props: { id: "h1", text: "Welcome, {{ customer.first_name | capitalize }}!", level: "h1" },
    },
    {
      type: "ProductCard",
      props: {
        id: "p1",
        title: "{{ purl.model | default: 'Barista Pro' }}",
        subtitle: "Serial {{ purl.serial }}",
        details: "Bought by {{ customer.first_name }} {{ customer.last_name }}.",
      },
    },
    {
      type: "Text",
      props: {
        id: "t1",
        text: "Register in a minute and we send you a discount code for your next order.",
      },
    },
    {
      type: "Form",
      props: {
        id: "f1",
        formId: "registration",
        title: "Register your machine",
        submitLabel: "Register",
        thankYouSlug: "thanks",
        fields: [
          { name: "serial", label: "Serial number", type: "hidden", prefill: "{{ purl.serial }}" },
          {
            name: "email",
            label: "Email",
            type: "email",
            required: true,
            prefill: "{{ customer.email }}",
          },
          { name: "city", label: "City", type: "text", required: true, saveTo: "city" },
        ],
        consent: {
          enabled: true,
          text: "I agree to receive offers.",
          version: "1",
          required: false,
        },
      },
    },
  ],
};
const THANKS = {
  root: { props: { title: "Thank you" } },
  content: [{ type: "Heading", props: { id: "h", text: "Thank you, {{ customer.first_name }}" } }],
};

async function waitReady(url: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not start within 60 s`);
}

async function startServer(
  env: BenchEnv,
  {
    profileDir,
    showLog,
    production,
    worker,
    httpProcesses,
  }: {
    profileDir?: string;
    showLog: boolean;
    production: boolean;
    worker: boolean;
    httpProcesses: number;
  },
) {
  const port = await freePort();
  const child = spawn(
    resolve(here, "node_modules/.bin/tsx"),
    [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), "src/main.ts"],
    {
      // As `pnpm start` runs it: apps/server's tsconfig (React's automatic JSX runtime).
      cwd: resolve(REPO, "apps/server"),
      detached: true, // its own process group: tsx runs the server in a child process
      // The server logs (errors only) to stdout: shown with --log.
      stdio: ["ignore", showLog ? "inherit" : "ignore", "inherit"],
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
        // --no-worker: the worker elsewhere (RUN_WORKER=false), so the visits' events wait in Redis.
        RUN_WORKER: worker ? "true" : "false",
        TRUST_PROXY: "true",
        HTTP_PROCESSES: String(httpProcesses),
        NODE_ENV: production ? "production" : "development",
        POSTPATH_MASTER_KEY: randomBytes(32).toString("base64"),
        WEB_DIST: "/nonexistent",
        // The main thread's event-loop delay, read per phase (_loop-delay.mjs).
        NODE_OPTIONS: `${process.env["NODE_OPTIONS"] ?? ""} --import ${pathToFileURL(resolve(here, "_loop-delay.mjs")).href}`,
        BENCH_LOOP_DELAY_FILE: loopDelayFile,
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/healthz`, child, "the server");
  return { url, child };
}

const loopDelayFile = join(os.tmpdir(), `landing-loop-${process.pid}`);

/**
 * The server's main threads (each node process running src/main.ts under tsx's loader: one, or
 * the supervisor and its HTTP processes with --http-processes): event-loop delay since the last
 * call (p50/p99/max ms), the worst process's, or null when none answered.
 */
async function loopDelay(
  pids: number[],
): Promise<{ p50: number; p99: number; max: number } | null> {
  const mains = pids.filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("loader.mjs");
    } catch {
      return false;
    }
  });
  const one = async (pid: number) => {
    const file = `${loopDelayFile}.${pid}`;
    fs.rmSync(file, { force: true });
    process.kill(pid, "SIGUSR2");
    for (let i = 0; i < 100; i++) {
      await sleep(20);
      try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as {
          p50: number;
          p99: number;
          max: number;
        };
      } catch {
        // not written yet
      }
    }
    return null;
  };
  const all = (await Promise.all(mains.map(one))).filter((d) => d !== null);
  if (all.length === 0) return null;
  return {
    p50: Math.max(...all.map((d) => d.p50)),
    p99: Math.max(...all.map((d) => d.p99)),
    max: Math.max(...all.map((d) => d.max)),
  };
}

async function startRaw(processes: number) {
  const port = await freePort();
  const child = spawn(
    resolve(here, "node_modules/.bin/tsx"),
    [resolve(here, "_raw-fastify.ts"), String(port), String(processes)],
    {
      detached: true,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/static`, child, "the raw Fastify server");
  return { url, child };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  stopGroup(child, "SIGTERM");
  await Promise.race([exited, sleep(30_000)]);
  stopGroup(child, "SIGKILL");
}

// ---- the load generator -------------------------------------------------------------------

type Req = {
  path: string;
  method?: "GET" | "POST";
  body?: string;
  headers?: http.OutgoingHttpHeaders;
};
type Res = { status: number; body: string };

function send(agent: http.Agent, base: string, r: Req, keepBody = false): Promise<Res> {
  return new Promise((ok, fail) => {
    const req = http.request(
      `${base}${r.path}`,
      {
        agent,
        method: r.method ?? "GET",
        headers: {
          ...(r.body !== undefined
            ? {
                "content-type": "application/x-www-form-urlencoded",
                "content-length": Buffer.byteLength(r.body),
              }
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

type Result = { ms: number[]; seconds: number; errors: Map<string, number> };

function tally(errors: Map<string, number>, what: string): void {
  errors.set(what, (errors.get(what) ?? 0) + 1);
}

/** `connections` loops, each sending the next request when the last answered, for `seconds`. */
async function closedLoop(
  base: string,
  next: () => Req,
  expect: number,
  connections: number,
  seconds: number,
): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const ms: number[] = [];
  const errors = new Map<string, number>();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const res = await send(agent, base, next());
          if (res.status !== expect) tally(errors, String(res.status));
        } catch (err) {
          tally(errors, (err as Error).message);
        }
        ms.push(performance.now() - t);
      }
    }),
  );
  const took = (performance.now() - t0) / 1000;
  agent.destroy();
  return { ms: ms.sort((a, b) => a - b), seconds: took, errors };
}

/**
 * `rate` requests a second for `seconds`, each started on its schedule (up to 256 open
 * connections; beyond that requests queue, and the wait counts); latency from the scheduled start.
 */
async function openLoop(
  base: string,
  next: () => Req,
  expect: number,
  rate: number,
  seconds: number,
): Promise<Result & { late: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const ms: number[] = [];
  const errors = new Map<string, number>();
  const total = Math.round(rate * seconds);
  const pending: Promise<void>[] = [];
  let late = 0; // requests the generator itself started > 5 ms after schedule
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    // A timer, not a spin for the last millisecond: the spin kept ~half a core busy at 200/s,
    // which the server and Postgres then waited for on a 2-core machine. Latency is measured from
    // `due` either way, so a late start counts against the server, never for it.
    // (A timer may fire a fraction of a millisecond early: wait again until due.)
    for (let wait = due - performance.now(); wait > 0; wait = due - performance.now())
      await sleep(wait);
    if (performance.now() - due > 5) late++;
    pending.push(
      send(agent, base, next()).then(
        (res) => {
          if (res.status !== expect) tally(errors, String(res.status));
          ms.push(performance.now() - due);
        },
        (err: Error) => {
          tally(errors, err.message);
          ms.push(performance.now() - due);
        },
      ),
    );
  }
  await Promise.all(pending);
  const took = (performance.now() - t0) / 1000;
  agent.destroy();
  return { ms: ms.sort((a, b) => a - b), seconds: took, errors, late };
}

// ---- seeding --------------------------------------------------------------------------------

async function publishPage(env: BenchEnv, slug: string, doc: unknown): Promise<void> {
  const issues = validatePageDocument(doc);
  if (issues.length) throw new Error(`page ${slug}: ${JSON.stringify(issues)}`);
  // What pages.publish stores: the page with its draft and version 1, the parsed document.
  const page = await env.db.prisma.page.create({
    data: {
      workspaceId: env.workspaceId,
      name: slug,
      slug,
      draft: doc as Prisma.InputJsonValue,
      publishedVersion: 1,
    },
  });
  await env.db.prisma.pageVersion.create({
    data: {
      pageId: page.id,
      workspaceId: env.workspaceId,
      version: 1,
      document: parsePublishedPage(doc),
    },
  });
}

function formOf(html: string) {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, "&") ?? "";
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const serial = /name="serial" value="([^"]*)"/.exec(html)?.[1] ?? "";
  return { action, csrf, serial };
}

// ---- where one render's time goes, in this process ---------------------------------------------

/**
 * The parts of a `/p/:token` render timed one by one in this process (no HTTP): the engine's visit
 * statement, the two reads for the Liquid context, Liquid over the page's texts, React's
 * renderToStaticMarkup of the blocks; and `SELECT 1` through Prisma and through the raw `pg` driver
 * and one Prisma findUnique, to show what one query costs.
 */
async function renderSplit(env: BenchEnv, tokens: string[], n: number): Promise<string[]> {
  const { renderToStaticMarkup } = createRequire(resolve(REPO, "apps/server/package.json"))(
    "react-dom/server",
  ) as { renderToStaticMarkup: (el: unknown) => string };
  const prisma = env.db.prisma;
  const doc = parsePublishedPage(PAGE) as unknown;
  const texts: string[] = [];
  walkBlocks(PAGE.content, (b) => {
    for (const v of Object.values(b.props))
      if (typeof v === "string" && v.includes("{")) texts.push(v);
  });
  const context = {
    customer: { first_name: "ann", last_name: "Lee", email: "ann@example.com" },
    purl: { serial: "SN1", url: "http://127.0.0.1/p/x" },
  };
  const metadata: PageMetadata = {
    forms: {
      registration: {
        action: "/p/x/forms/registration?v=1",
        csrf: "c".repeat(43),
        key: "k".repeat(22),
        values: { serial: "SN1", email: "ann@example.com", city: "" },
        errors: {},
      },
    },
  };
  // Interleaved (one turn of each in turn), so load from elsewhere falls on all alike; wall time
  // per turn, and this process's CPU time per turn (user + system, mean).
  const parts: [string, (i: number) => unknown][] = [
    ["pg SELECT 1 (raw driver)", () => env.db.query("SELECT 1")],
    ["Prisma $queryRaw SELECT 1", () => prisma.$queryRaw`SELECT 1`],
    [
      "Prisma customer.findUnique",
      (i) =>
        prisma.customer.findUnique({
          where: { id: `lp-c${String((i % tokens.length) + 1).padStart(7, "0")}` },
        }),
    ],
    ["visit statement (engine visitPurl)", (i) => visitPurl(env.ctx, tokens[i % tokens.length]!)],
    [
      "context reads (customer + run, Prisma)",
      (i) =>
        Promise.all([
          prisma.customer.findUnique({
            where: { id: `lp-c${String((i % tokens.length) + 1).padStart(7, "0")}` },
          }),
          prisma.journeyRun.findMany({
            where: { id: { in: [`lp-r${String((i % tokens.length) + 1).padStart(7, "0")}`] } },
            select: { id: true, state: true },
          }),
        ]),
    ],
    [
      `Liquid: the page's ${texts.length} templated texts`,
      () => {
        const render = stepTemplateRenderer();
        for (const t of texts) render(t, context, "x");
      },
    ],
    [
      `React renderToStaticMarkup (NODE_ENV=${process.env.NODE_ENV ?? "unset"})`,
      () => renderToStaticMarkup(pageElement(doc, metadata)),
    ],
  ];
  const wall = parts.map(() => [] as number[]);
  const cpu = parts.map(() => 0);
  for (let i = -20; i < n; i++) {
    for (const [k, [, fn]] of parts.entries()) {
      const c = process.cpuUsage();
      const t = performance.now();
      await fn(i + 20);
      if (i < 0) continue; // warm-up
      wall[k]!.push(performance.now() - t);
      const d = process.cpuUsage(c);
      cpu[k]! += (d.user + d.system) / 1000;
    }
  }
  return parts.map(([what], k) => {
    const ms = wall[k]!.sort((a, b) => a - b);
    return `  ${what.padEnd(44)} p50 ${fmt(percentile(ms, 50), 2).padStart(6)} ms   p99 ${fmt(percentile(ms, 99), 2).padStart(7)} ms   CPU here ${fmt(cpu[k]! / n, 2).padStart(5)} ms`;
  });
}

// ---- main -------------------------------------------------------------------------------------

export default async function landingPage(args: string[]): Promise<void> {
  const purls = arg(args, "purls", 2000);
  const seconds = arg(args, "seconds", 10);
  const connections = arg(args, "connections", 16);
  // --sweep 16,64,128: the closed-loop connection counts of the max phases (with --connections).
  const sweepAt = args.indexOf("--sweep");
  const sweep = [
    ...new Set(
      [
        connections,
        ...(sweepAt >= 0 ? (args[sweepAt + 1] ?? "") : "16,64,128").split(",").map(Number),
      ].filter((n) => Number.isInteger(n) && n > 0),
    ),
  ].sort((a, b) => a - b);
  const rate = arg(args, "rate", 200);
  const submits = arg(args, "submits", 600);
  const httpProcesses = arg(args, "http-processes", 1);
  const rateFirst = args.includes("--rate-first");
  const profileDir = args.includes("--profile")
    ? fs.mkdtempSync(join(os.tmpdir(), "landing-prof-"))
    : undefined;

  const env = await openBench();
  let server: ChildProcess | undefined;
  let raw: ChildProcess | undefined;
  try {
    const journey = await publish(env, [
      { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "card" },
      { id: "card", type: "action.purl", data: { page: "register" }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    await publishPage(env, "register", PAGE);
    await publishPage(env, "thanks", THANKS);
    await insertPurls(env.db, {
      workspaceId: env.workspaceId,
      ...journey,
      stepId: "card",
      prefix: "lp",
      count: purls,
    });
    await env.db.exec(`ANALYZE "Purl"; ANALYZE "Customer"; ANALYZE "JourneyRun";`);
    const tokens = (
      await env.db.prisma.purl.findMany({ select: { token: true }, orderBy: { token: "asc" } })
    ).map((p) => p.token);

    const production = args.includes("--production");
    const started = await startServer(env, {
      profileDir,
      showLog: args.includes("--log"),
      production,
      worker: !args.includes("--no-worker"),
      httpProcesses,
    });
    server = started.child;
    const rawStarted = await startRaw(httpProcesses);
    raw = rawStarted.child;
    const serverPids = groupPids(server);
    const rawPids = groupPids(raw);

    // The page renders as expected (greeting, product, form) before anything is measured.
    const probeAgent = new http.Agent({ keepAlive: true });
    const first = await send(probeAgent, started.url, { path: `/p/${tokens[0]}` }, true);
    if (first.status !== 200 || !first.body.includes("Welcome, First 1!"))
      throw new Error(`/p/:token answered ${first.status}: ${first.body.slice(0, 300)}`);
    console.log(
      `server: NODE_ENV=${production ? "production" : "development (as pnpm start runs it)"}, worker ${args.includes("--no-worker") ? "off (RUN_WORKER=false)" : "in-process (its own thread)"}; ${httpProcesses} HTTP process${httpProcesses > 1 ? "es (HTTP_PROCESSES), raw Fastify as many" : ""}; page: ${fmt(first.body.length)} bytes of HTML; ${fmt(purls)} PURLs; ${sweep.join(", ")} connections for max req/s (the best taken; ${connections} as before); ${seconds} s per phase`,
    );

    let i = 0;
    const page = (): Req => ({ path: `/p/${tokens[i++ % tokens.length]}` });
    const staticReq = (): Req => ({ path: "/static" });

    type Row = { what: string; r: Result; cpu: string; perRequest: string; loop: string };
    const rows: Row[] = [];
    /** CPU seconds of a group (server: its process group; postgres) between two snapshots. */
    const used = (
      before: ReturnType<typeof cpuSnapshot>,
      after: ReturnType<typeof cpuSnapshot>,
      group: string,
    ) => {
      let sum = 0;
      for (const [pid, v] of after ?? [])
        if (v.group === group) sum += v.seconds - (before?.get(pid)?.seconds ?? 0);
      return sum;
    };
    const phase = async <R extends Result>(
      what: string,
      run: () => Promise<R>,
      serverCpu = serverPids,
    ): Promise<R> => {
      const mine = serverCpu === serverPids;
      if (mine) await loopDelay(serverPids); // starts over
      const before = cpuSnapshot(serverCpu);
      const t = performance.now();
      const r = await run();
      const ms = performance.now() - t;
      const after = cpuSnapshot(serverCpu);
      const delay = mine ? await loopDelay(serverPids) : null;
      // CPU per request: the only figure here that other load on a shared machine barely moves.
      const per = (g: string) => fmt((used(before, after, g) * 1000) / Math.max(1, r.ms.length), 2);
      rows.push({
        what,
        r,
        cpu: cpuSince(before, ms, serverCpu),
        perRequest: `${per("node (worker processes)")} / ${per("postgres")}`,
        loop: delay ? `${fmt(delay.p99, 1)} / ${fmt(delay.max, 1)}` : "-",
      });
      return r;
    };

    /**
     * Waits until the in-process worker has processed every queued visit event, so one phase's
     * backlog is not measured in the next. Follows progress: fails only when the backlog stops
     * shrinking for a minute. Without a worker nothing drains, so there is nothing to wait for.
     */
    const drained = async () => {
      if (args.includes("--no-worker")) return;
      const backlog = async () => {
        let n = 0;
        for (const q of env.ctx.queues.events.shards)
          for (const v of Object.values(await q.getJobCounts("waiting", "active", "delayed")))
            n += v;
        return n;
      };
      let last = await backlog();
      let movedAt = performance.now();
      for (let n = last; n > 0; n = await backlog()) {
        if (n < last) [last, movedAt] = [n, performance.now()];
        if (performance.now() - movedAt > 60_000)
          throw new Error(`the worker left ${n} visit events unprocessed for a minute`);
        await sleep(200);
      }
    };

    // Warm-up: connections, JIT, Prisma's first queries.
    await closedLoop(rawStarted.url, staticReq, 200, connections, 2);
    await closedLoop(started.url, page, 200, connections, 3);
    await drained();
    // Statistics for the tables the warm-up filled, as a database in use has them: planned on the
    // empty tables of a fresh database, the event worker's lookups by id scanned the whole table.
    await env.db.exec(`ANALYZE "Event"; ANALYZE "PageVisit"; ANALYZE "RunTrace";`);

    // Max: each server at its own saturation, the best of a sweep of closed-loop connection
    // counts (a closed loop of 16 measures a server whose answer waits for a commit by its
    // latency, not by what it can serve), every point printed; `connections` is always one of
    // them, and its figure is printed too (what the bench reported before 2026-12-05).
    // The offered rate: after the max phases (as before), or with --rate-first before them, on a
    // system not still writing back what the saturating phases stored (checkpoint, autovacuum).
    const atRate = async () => {
      const raw = await phase(
        `raw Fastify static at ${rate}/s`,
        () => openLoop(rawStarted.url, staticReq, 200, rate, seconds),
        rawPids,
      );
      const own = await phase(`/p/:token render at ${rate}/s`, () =>
        openLoop(started.url, page, 200, rate, seconds),
      );
      await drained();
      return [raw, own] as const;
    };
    const ratePhases = rateFirst ? await atRate() : ([] as never);
    const rawPoints: { conns: number; r: Result }[] = [];
    for (const conns of sweep)
      rawPoints.push({
        conns,
        r: await phase(
          `raw Fastify static, max (${conns} conns)`,
          () => closedLoop(rawStarted.url, staticReq, 200, conns, seconds),
          rawPids,
        ),
      });
    const pagePoints: { conns: number; r: Result }[] = [];
    for (const conns of sweep) {
      pagePoints.push({
        conns,
        r: await phase(`/p/:token render, max (${conns} conns)`, () =>
          closedLoop(started.url, page, 200, conns, seconds),
        ),
      });
      await drained(); // each point's visits are processed before the next phase
    }
    const [rawRate, pageRate] = rateFirst ? ratePhases : await atRate();

    // Form submits: the CSRF token and action read from each link's page.
    const forms: { action: string; csrf: string; serial: string }[] = [];
    const perLink = 8;
    const links = Math.ceil(submits / perLink);
    for (const token of tokens.slice(-links)) {
      const res = await send(probeAgent, started.url, { path: `/p/${token}` }, true);
      forms.push(formOf(res.body));
    }
    let s = 0;
    const submit = (): Req => {
      const n = s++;
      const f = forms[n % forms.length]!;
      const body = new URLSearchParams({
        _csrf: f.csrf,
        _key: randomBytes(12).toString("base64url"),
        _hp: "",
        serial: f.serial,
        email: `buyer${n}@example.com`,
        city: "Hamburg",
        consent: "on",
      }).toString();
      // 20 posts per client address, from the documentation ranges (a header only: no traffic).
      const ip = Math.floor(n / 20);
      return {
        path: f.action,
        method: "POST",
        body,
        headers: { "x-forwarded-for": `198.${18 + (ip >> 16)}.${(ip >> 8) & 255}.${ip & 255}` },
      };
    };
    const submitConns = 4;
    const limited = <T>(n: number, next: () => T) => {
      let left = n;
      return () => (left-- > 0 ? next() : null);
    };
    const bounded = async (
      base: string,
      next: () => Req | null,
      expect: number,
    ): Promise<Result> => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: submitConns });
      const ms: number[] = [];
      const errors = new Map<string, number>();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: submitConns }, async () => {
          for (let r = next(); r; r = next()) {
            const t = performance.now();
            try {
              const res = await send(agent, base, r);
              if (res.status !== expect) tally(errors, String(res.status));
            } catch (err) {
              tally(errors, (err as Error).message);
            }
            ms.push(performance.now() - t);
          }
        }),
      );
      agent.destroy();
      return { ms: ms.sort((a, b) => a - b), seconds: (performance.now() - t0) / 1000, errors };
    };
    const rawSubmit = await phase(
      `raw Fastify form post, ${submitConns} conns`,
      () =>
        bounded(
          rawStarted.url,
          limited(submits, () => ({ ...submit(), path: "/form" })),
          303,
        ),
      rawPids,
    );
    s = 0;
    const pageSubmit = await phase(`form submit, ${submitConns} conns`, () =>
      bounded(started.url, limited(submits, submit), 303),
    );
    probeAgent.destroy();
    const stored = await env.db.prisma.formSubmission.count();
    await sleep(1000);
    const events = await env.db.prisma.event.count({ where: { name: "form_submitted" } });

    // ---- report ----
    const p = (r: Result, q: number) => fmt(percentile(r.ms, q), 1);
    const rps = (r: Result) => r.ms.length / r.seconds;
    const head = [
      "",
      "requests",
      "req/s",
      "p50 ms",
      "p99 ms",
      "max ms",
      "errors",
      "CPU ms/req server / pg",
      "loop delay p99 / max ms",
      "CPU (% of one core)",
    ];
    const table = rows.map(({ what, r, cpu, perRequest, loop }) => [
      what,
      fmt(r.ms.length),
      fmt(rps(r)),
      p(r, 50),
      p(r, 99),
      fmt(r.ms[r.ms.length - 1] ?? NaN, 1),
      r.errors.size ? [...r.errors].map(([k, v]) => `${k}×${v}`).join(" ") : "0",
      perRequest,
      loop,
      cpu.replace("node (worker processes)", "server"),
    ]);
    const widths = head.map((h, c) => Math.max(h.length, ...table.map((r) => r[c]!.length)));
    const pad = (r: string[]) =>
      r
        .map((c, k) =>
          k === 0 || k === head.length - 1 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!),
        )
        .join("  ");
    console.log(pad(head));
    for (const r of table) console.log(pad(r));
    const best = (points: { conns: number; r: Result }[]) =>
      points.reduce((a, b) => (rps(b.r) > rps(a.r) ? b : a));
    const at = (points: { conns: number; r: Result }[]) =>
      points.find((x) => x.conns === connections)!;
    const [rawBest, pageBest] = [best(rawPoints), best(pagePoints)];
    const sweepLine = (points: { conns: number; r: Result }[], taken: number) =>
      points
        .map((x) => `${x.conns}: ${fmt(rps(x.r))}${x.conns === taken ? " (taken)" : ""}`)
        .join(", ");
    console.log(
      `\nmax req/s by connections — raw static ${sweepLine(rawPoints, rawBest.conns)}; render ${sweepLine(pagePoints, pageBest.conns)}`,
    );
    console.log(
      `render max throughput: ${fmt((rps(pageBest.r) / rps(rawBest.r)) * 100, 1)} % of raw static, each at its best connection count (${fmt(rps(pageBest.r))} at ${pageBest.conns} / ${fmt(rps(rawBest.r))} at ${rawBest.conns}; goal ≥ 25 %); at ${connections} connections both: ${fmt((rps(at(pagePoints).r) / rps(at(rawPoints).r)) * 100, 1)} %`,
    );
    console.log(
      `render p99 at ${rate}/s: ${p(pageRate, 99)} ms (goal ≤ 20 ms), ${fmt(percentile(pageRate.ms, 99) / percentile(rawRate.ms, 99), 1)}× raw static's ${p(rawRate, 99)} ms; p50 ${p(pageRate, 50)} ms; generator late > 5 ms: ${fmt(pageRate.late)} / ${fmt(pageRate.ms.length)}`,
    );
    console.log(
      `form submit p99: ${p(pageSubmit, 99)} ms (p50 ${p(pageSubmit, 50)}), ${fmt(percentile(pageSubmit.ms, 99) / percentile(rawSubmit.ms, 99), 1)}× the raw post's ${p(rawSubmit, 99)} ms; ${fmt(stored)} submissions stored, ${fmt(events)} form_submitted events`,
    );
    const splitTurns = arg(args, "split", 300);
    if (splitTurns > 0) {
      console.log(
        `\none render's parts timed alone in the bench process (${fmt(splitTurns)} turns each; server still up, idle):`,
      );
      for (const line of await renderSplit(env, tokens, splitTurns)) console.log(line);
    }
    if (profileDir) {
      await stop(server);
      server = undefined;
      console.log(`\nserver CPU profile (self time by package; ${profileDir}):`);
      for (const line of summariseProfile(profileDir)) console.log(line);
    }
  } finally {
    if (raw) await stop(raw);
    if (server) await stop(server);
    await env.close();
  }
}
