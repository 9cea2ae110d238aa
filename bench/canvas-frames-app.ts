// Opening a big journey in the REAL app editor (issue 18 item 5), not the bench page: the
// production build of apps/web served by the real server (apps/server, `node --import tsx
// src/main.ts` as `pnpm start` runs it) on a fresh Postgres database with the demo workspace,
// a generated journey of `--size` steps (canvas-frames.ts's generator) created through tRPC as
// the demo marketer, then opened `--opens` times, each in a fresh page of a signed-in browser
// context: navigation to the editor's address → the first step in the DOM and painted, on the
// page's clock (performance.now(), from navigation start), and the wall clock from Playwright.
// What the route loads first (the JourneyPage chunk and its static imports) is what this times.
//   pnpm --filter @postpath/bench bench canvas-frames-app [--size 1000] [--opens 5]
//     [--web <dir>] (another copy of apps/web, e.g. an older commit's, built here for before/after)
// No assertions: figures, with the machine's load average (the machine is shared).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "@postpath/db/testing";
import {
  FIRST_STEP,
  STEP_SELECTOR,
  generateCanvasJourney,
  launchChromium,
} from "./canvas-frames.ts";
import { freePort, stopGroup } from "./_process.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, "..");
const WEB = path.join(REPO, "apps/web");
const MARKETER = { email: "marketer@postpath.local", password: "postpath-demo" };

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const load = () => loadavg()[0]?.toFixed(1) ?? "?";

async function startServer(
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn("node", ["--import", "tsx", "src/main.ts"], {
    cwd: path.join(REPO, "apps/server"),
    detached: true, // its own process group, stopped whole
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ...env, HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "error" },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000; // against a hang, on a busy machine
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return { url, child };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the server did not answer /healthz in 180 s");
    await sleep(250);
  }
}

export default async function canvasFramesApp(args: string[]): Promise<void> {
  const size = Number(arg(args, "size") ?? 1000);
  const opens = Number(arg(args, "opens") ?? 5);
  const web = path.resolve(arg(args, "web") ?? WEB);
  const dist = mkdtempSync(path.join(tmpdir(), "postpath-app-bench-"));
  const dataDir = mkdtempSync(path.join(tmpdir(), "postpath-app-bench-data-"));
  console.log(`Building ${path.relative(REPO, web) || web} (vite, production) into ${dist}…`);
  execFileSync("pnpm", ["exec", "vite", "build", "--outDir", dist, "--logLevel", "error"], {
    cwd: web,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const db = await createTestDatabase("postpath_bench_app");
  let server: { url: string; child: ChildProcess } | undefined;
  const browser = await launchChromium();
  try {
    server = await startServer({
      DATABASE_URL: db.url,
      SEED_DEMO: "true",
      RUN_WORKER: "false",
      REDIS_AUTOSTART: "false",
      QUEUE_PREFIX: `benchapp${randomBytes(3).toString("hex")}`,
      POSTPATH_DATA_DIR: dataDir,
      WEB_DIST: dist,
    });
    const base = server.url;
    // Sign in as the demo marketer and create the journey through tRPC (setup, not timed).
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      baseURL: base,
    });
    const setup = await context.newPage();
    await setup.goto("/");
    await setup.getByLabel("Email").fill(MARKETER.email);
    await setup.getByLabel("Password").fill(MARKETER.password);
    await setup.getByRole("button", { name: "Sign in" }).click();
    await setup.getByRole("heading", { name: "Journeys" }).waitFor();
    const draft = generateCanvasJourney(size, Math.round(size * 1.2));
    const res = await setup.request.post("/trpc/journeys.create", {
      data: { name: `Bench ${size} steps`, draft },
      headers: { "x-postpath-client": "bench" },
    });
    if (res.status() !== 200)
      throw new Error(`journeys.create: ${res.status()} ${await res.text()}`);
    const id = ((await res.json()) as { result: { data: { id: string } } }).result.data.id;
    await setup.close();
    console.log(
      `Chromium ${browser.version()}, headless, software rendering; viewport 1280×800; server ${base} (Postgres, workers off); journey of ${draft.nodes.length} steps / ${draft.edges.length} connections.`,
    );
    console.log(`uptime: ${execFileSync("uptime").toString().trim()}`);
    const painted: number[] = [];
    for (let i = 1; i <= opens; i++) {
      const page = await context.newPage();
      await page.addInitScript(FIRST_STEP);
      const started = Date.now();
      await page.goto(`/#/journeys/${encodeURIComponent(id)}`);
      await page.locator(STEP_SELECTOR).first().waitFor({ timeout: 120_000 });
      const wall = Date.now() - started;
      await page.waitForFunction("window.__firstPaint !== null");
      const inDom = await page.evaluate<number>("window.__firstStep");
      const paint = await page.evaluate<number>("window.__firstPaint");
      // Where the opening's time went: when the draft was asked for and arrived (journeys.get,
      // batched with whatever else the page asked at that moment), on the same clock.
      const draftAt = await page.evaluate<[number, number] | null>(`(() => {
        const e = performance.getEntriesByType("resource").find((r) => r.name.includes("journeys.get"));
        return e ? [e.startTime, e.responseEnd] : null;
      })()`);
      // When the editor's panels arrived (issue 18: after the first paint), for the record.
      await page.getByRole("tab", { name: /^Problems/ }).waitFor();
      const palette = await page
        .locator('nav.palette:not([aria-busy="true"])')
        .waitFor({ timeout: 60_000 })
        .then(() => page.evaluate<number>("performance.now()"))
        .catch(() => NaN);
      painted.push(paint);
      console.log(
        `${draft.nodes.length} steps, app editor opening ${i}/${opens}: first step drawn ${wall} ms (page clock: in the DOM ${inDom.toFixed(0)} ms, painted ${paint.toFixed(0)} ms; draft asked at ${draftAt?.[0].toFixed(0) ?? "?"} ms, arrived ${draftAt?.[1].toFixed(0) ?? "?"} ms; palette ready by ${palette.toFixed(0)} ms; load ${load()})`,
      );
      await page.close();
    }
    const sorted = [...painted].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
    console.log(
      `Painted (page clock): median ${median.toFixed(0)} ms, ${sorted[0]?.toFixed(0)}–${sorted.at(-1)?.toFixed(0)} ms over ${opens} openings. Goal (issue 18): ≤ 1,000 ms at 1,000 steps.`,
    );
    console.log(`uptime: ${execFileSync("uptime").toString().trim()}`);
    await context.close();
  } finally {
    await browser.close();
    if (server) {
      stopGroup(server.child, "SIGTERM");
      await Promise.race([new Promise((r) => server?.child.once("exit", r)), sleep(15_000)]);
      stopGroup(server.child, "SIGKILL");
    }
    await db.drop();
    rmSync(dist, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}
