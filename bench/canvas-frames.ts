// Canvas frame times: the real editor canvas (production build of apps/web's bench.html) in
// headless Chromium, on generated journeys of 500 nodes / 600 edges, 1,000 / 1,200 and 5,000 /
// 6,000. Each opening is timed (navigation to the first step drawn: wall clock from Playwright,
// and the page's own clock to the first step in the DOM and painted). For each
// size and view (whole journey fitted, and zoom 1) it pans with the mouse and drags a node for a
// few seconds and prints frame-time p50 / p95 and fps from requestAnimationFrame deltas in the
// page, against a baseline measured in the same page and run: the idle canvas (nothing moving).
//   pnpm --filter @postpath/bench bench canvas-frames [--seconds 3] [--sizes 500,1000,5000] [--minimap]
//     [--web <dir>] (another copy of apps/web, e.g. an older commit's, for before/after runs)
//     [--opens N] [--open-only] (open each size N times; only the openings)
// Goals (issue 5): p95 ≤ 16.7 ms at 500 nodes; ≥ 30 fps at 1,000. Issue 18: first step drawn
// ≤ 1 s at 1,000 steps; 60 fps fitted pan at 5,000. No assertions: figures only (a summary of
// the issue 18 figures ends the output). Where the time goes: bench/_canvas-profile.ts.
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { JourneyDraft, StepType } from "@postpath/journey";
import { chromium } from "playwright-core";
import type { Page } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const WEB = path.resolve(here, "../apps/web");

type Node = JourneyDraft["nodes"][number];
type Edge = JourneyDraft["edges"][number];

/**
 * `nodes` steps and `edges` connections: a trigger, then a column-wrapped sequence of condition
 * splits (yes → email, no → SMS, both joining the next unit: 3 nodes, 4 edges) and single steps
 * (wait / push / tag: 1 node, 1 edge), ending in an exit. Needs edges ≥ nodes − 1.
 */
export function generateCanvasJourney(nodes: number, edges: number): JourneyDraft {
  const splits = Math.max(0, edges - nodes + 1);
  const singles = nodes - 2 - splits * 3;
  if (singles < 0) throw new Error(`cannot make ${nodes} nodes with ${edges} edges`);
  const out: Node[] = [];
  const links: Edge[] = [];
  const ROWS = 30;
  let row = 0;
  const at = (dx = 0) => ({ x: Math.floor(row / ROWS) * 900 + dx, y: (row % ROWS) * 160 });
  const add = (id: string, type: StepType, data: Record<string, unknown>, dx = 0) =>
    out.push({ id, type, position: at(dx), data });
  const link = (source: string, target: string, branch = "next") =>
    links.push({ id: `e${links.length}`, source, sourceHandle: branch, target });

  add("trigger", "trigger.event", { event: "purchase", filters: [] });
  row++;
  let tails: string[] = ["trigger"];
  const singleTypes: [StepType, Record<string, unknown>][] = [
    ["wait.duration", { amount: 1, unit: "days" }],
    ["action.push", { title: "Hi {{ first_name }}", body: "Your order shipped" }],
    ["action.tag", { add: ["vip"], remove: [] }],
  ];
  // Spread the splits evenly among the single steps.
  const units = splits + singles;
  let placedSplits = 0;
  for (let u = 0; u < units; u++) {
    const wantSplit = placedSplits < splits && (u + 1) * splits >= (placedSplits + 1) * units;
    if (wantSplit) {
      const id = `s${u}`;
      add(id, "split.condition", {
        conditions: [{ property: "event.total", op: "gt", value: u }],
        match: "all",
      });
      for (const t of tails) link(t, id);
      row++;
      add(
        `${id}-email`,
        "action.email",
        { subject: `Thanks {{ first_name }} (${u})`, body: "We hope you love it." },
        -160,
      );
      add(`${id}-sms`, "action.sms", { body: `Code {{ event.code }} (${u})` }, 160);
      link(id, `${id}-email`, "yes");
      link(id, `${id}-sms`, "no");
      row++;
      tails = [`${id}-email`, `${id}-sms`];
      placedSplits++;
    } else {
      const [type, data] = singleTypes[u % singleTypes.length] as [
        StepType,
        Record<string, unknown>,
      ];
      const id = `n${u}`;
      add(id, type, data);
      for (const t of tails) link(t, id);
      row++;
      tails = [id];
    }
  }
  add("exit", "flow.exit", {});
  for (const t of tails) link(t, "exit");
  return { schemaVersion: 1, settings: {}, nodes: out, edges: links } as unknown as JourneyDraft;
}

function buildBenchPage(outDir: string, web: string): void {
  execFileSync(
    "pnpm",
    [
      "exec",
      "vite",
      "build",
      "--config",
      "vite.bench.config.ts",
      "--outDir",
      outDir,
      "--logLevel",
      "warn",
    ],
    {
      cwd: web,
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".map": "application/json",
};

export async function serve(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = path.join(dir, pathname === "/" ? "bench.html" : pathname);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bench.html`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Stats = { frames: number; p50: number; p95: number; max: number; fps: number };

function stats(deltas: number[]): Stats {
  const sorted = [...deltas].sort((a, b) => a - b);
  const q = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  const total = deltas.reduce((a, b) => a + b, 0);
  return {
    frames: deltas.length,
    p50: q(0.5),
    p95: q(0.95),
    max: sorted[sorted.length - 1] ?? NaN,
    fps: total > 0 ? (deltas.length / total) * 1000 : NaN,
  };
}

/**
 * A step drawn: a React Flow node, or (issue 18, far out over 300 steps) a path of the canvas's
 * far-steps layer.
 */
export const STEP_SELECTOR = ".react-flow__node, .far-steps__path";

// Page scripts as text: tsx's transform would add helpers (`__name`) that do not exist in the page.
const START_RECORDING = `(() => {
  window.__frames = [];
  window.__recording = true;
  let last = 0;
  const tick = (now) => {
    window.__frames.push(now - last);
    last = now;
    if (window.__recording) requestAnimationFrame(tick);
  };
  requestAnimationFrame((now) => { last = now; requestAnimationFrame(tick); });
})()`;
// When the first step is in the DOM, and painted (the next frame), on the page's clock
// (performance.now(): milliseconds since navigation start).
export const FIRST_STEP = `(() => {
  const STEP_SELECTOR = ${JSON.stringify(STEP_SELECTOR)};
  window.__firstStep = null;
  window.__firstPaint = null;
  const seen = () => {
    if (window.__firstStep !== null || !document.querySelector(STEP_SELECTOR)) return;
    window.__firstStep = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__firstPaint = performance.now(); }, 0));
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
})()`;
const STOP_RECORDING = `(() => { window.__recording = false; return window.__frames; })()`;

/** The page script that puts the draft on `window.__BENCH_DRAFT__` before the page loads. */
export function draftScript(draft: JourneyDraft): string {
  return `window.__BENCH_DRAFT__ = JSON.parse(${JSON.stringify(JSON.stringify(draft))});`;
}

/**
 * Opens the journey in `page`: wall clock from navigation to the first step drawn, and the page's
 * clock to the first step in the DOM and painted.
 */
async function open(
  page: Page,
  draft: JourneyDraft,
  url: string,
): Promise<{ openMs: number; inDom: number; painted: number }> {
  // JSON.parse of a string, as the app parses a fetched draft: a 1,000-step object literal took
  // the page 65–330 ms to compile before anything else ran (load 10), JSON.parse 11–37 ms.
  await page.addInitScript(draftScript(draft));
  await page.addInitScript(FIRST_STEP);
  const opened = Date.now();
  await page.goto(url);
  await page.locator(STEP_SELECTOR).first().waitFor();
  const openMs = Date.now() - opened;
  await page.waitForFunction("window.__firstPaint !== null");
  const inDom = await page.evaluate<number>("window.__firstStep");
  const painted = await page.evaluate<number>("window.__firstPaint");
  return { openMs, inDom, painted };
}

/** Records requestAnimationFrame deltas while `act` runs. */
async function measure(page: Page, act: () => Promise<void>): Promise<Stats> {
  await page.evaluate(START_RECORDING);
  await act();
  const frames = await page.evaluate<number[]>(STOP_RECORDING);
  return stats(frames);
}

async function zoomOf(page: Page): Promise<number> {
  const transform = (await page.locator(".react-flow__viewport").getAttribute("style")) ?? "";
  return Number(/scale\(([\d.]+)\)/.exec(transform)?.[1] ?? 1);
}

/** Pans by dragging the empty pane in a circle-ish path for `seconds`. */
async function pan(page: Page, seconds: number): Promise<void> {
  const box = await page.locator(".react-flow__pane").boundingBox();
  if (!box) throw new Error("no pane");
  // Start on the pane's free edge (left border strip), where no node sits.
  const x0 = box.x + 12;
  const y0 = box.y + box.height / 2;
  const end = Date.now() + seconds * 1000;
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (let i = 0; Date.now() < end; i++) {
    await page.mouse.move(x0 + 150 * Math.sin(i / 10), y0 + 100 * Math.cos(i / 10));
  }
  await page.mouse.up();
}

/**
 * Where the middle step of the draft is on the screen (a far-steps layer has no element per step):
 * its position through the viewport's transform, offset by the pane.
 */
async function farStepBox(
  page: Page,
): Promise<{ x: number; y: number; width: number; height: number }> {
  return page.evaluate(`(() => {
    const nodes = window.__BENCH_DRAFT__.nodes;
    const n = nodes[Math.floor(nodes.length / 2)];
    const pane = document.querySelector('.react-flow__pane').getBoundingClientRect();
    const t = document.querySelector('.react-flow__viewport').style.transform;
    const [, tx, ty, z] = /translate\\(([-\\d.e]+)px, ?([-\\d.e]+)px\\) scale\\(([\\d.e-]+)\\)/.exec(t).map(Number);
    return { x: pane.x + tx + n.position.x * z, y: pane.y + ty + n.position.y * z, width: 240 * z, height: 124 * z };
  })()`);
}

/** Drags one visible node back and forth for `seconds`. */
async function drag(page: Page, seconds: number): Promise<void> {
  const nodes = page.locator(".react-flow__node");
  const count = await nodes.count();
  const box =
    count > 0 ? await nodes.nth(Math.floor(count / 2)).boundingBox() : await farStepBox(page);
  if (!box) throw new Error("no node to drag");
  const x0 = box.x + box.width / 2;
  const y0 = box.y + Math.min(12, box.height / 2);
  const end = Date.now() + seconds * 1000;
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (let i = 0; Date.now() < end; i++) {
    await page.mouse.move(x0 + 120 * Math.sin(i / 8), y0 + 80 * Math.sin(i / 5));
  }
  await page.mouse.up();
}

function row(label: string, s: Stats, idle: Stats): string {
  const f = (n: number) => n.toFixed(1).padStart(6);
  return `  ${label.padEnd(30)} ${f(s.p50)} ${f(s.p95)} ${f(s.max)} ${f(s.fps)}  ${String(s.frames).padStart(5)}   p95 ×${(s.p95 / idle.p95).toFixed(2)} of idle`;
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Debian's Chromium, headless, as every canvas bench drives it. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export default async function canvasFrames(args: string[]): Promise<void> {
  const seconds = Number(arg(args, "seconds") ?? 3);
  const sizes = (arg(args, "sizes") ?? "500,1000,5000").split(",").map(Number);
  const summary: string[] = [];
  // Journeys over 300 steps open with the minimap hidden; --minimap measures with it shown.
  const showMiniMap = args.includes("--minimap");
  const opens = Number(arg(args, "opens") ?? 1);
  const openOnly = args.includes("--open-only");
  const outDir = mkdtempSync(path.join(tmpdir(), "postpath-canvas-bench-"));
  const browser = await launchChromium();
  try {
    process.stdout.write("Building the canvas benchmark page (vite, production)…\n");
    buildBenchPage(outDir, arg(args, "web") ?? WEB);
    const server = await serve(outDir);
    try {
      console.log(
        `Chromium ${browser.version()}, headless, software rendering; viewport 1280×800; ${seconds} s per measurement.`,
      );
      console.log(
        `Machine load average (1 min) at start: ${loadavg()[0]?.toFixed(1)} — figures are only meaningful on an idle machine.`,
      );
      for (const size of sizes) {
        const draft = generateCanvasJourney(size, Math.round(size * 1.2));
        // --opens N: open the journey N times (a fresh page each) and print each opening; with
        // --open-only nothing else is measured (for before/after runs of the opening alone).
        for (let extra = 1; extra < opens; extra++) {
          const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
          const o = await open(page, draft, server.url);
          console.log(
            `${draft.nodes.length} steps, opening ${extra}/${opens}: first step drawn ${o.openMs} ms (page clock: in the DOM ${o.inDom.toFixed(0)} ms, painted ${o.painted.toFixed(0)} ms; load ${loadavg()[0]?.toFixed(1)})`,
          );
          summary.push(
            `  ${draft.nodes.length} steps: first step drawn ${o.openMs} ms (page clock: painted at ${o.painted.toFixed(0)} ms)`,
          );
          await page.close();
        }
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const { openMs, inDom, painted } = await open(page, draft, server.url);
        const miniMapButton = page.getByRole("button", { name: "Show minimap" });
        if (showMiniMap && (await miniMapButton.count()) > 0) await miniMapButton.click();
        const miniMap = (await page.locator(".react-flow__minimap").count()) > 0;
        console.log(
          `\n${draft.nodes.length} nodes / ${draft.edges.length} edges — opened (first node drawn) in ${openMs} ms; minimap ${miniMap ? "shown" : "hidden"}`,
        );
        console.log(
          `  page clock: first step in the DOM ${inDom.toFixed(0)} ms, painted ${painted.toFixed(0)} ms after navigation start`,
        );
        summary.push(
          `  ${draft.nodes.length} steps: first step drawn ${openMs} ms (page clock: painted at ${painted.toFixed(0)} ms)`,
        );
        if (openOnly) {
          await page.close();
          continue;
        }
        console.log(`  ${"".padEnd(30)}  p50ms  p95ms  maxms    fps frames`);
        for (const view of ["fit (whole journey)", "zoom 1"] as const) {
          if (view === "zoom 1") {
            // Zoom in with the wheel over the pane until the viewport's scale reaches 1.
            const box = await page.locator(".react-flow__pane").boundingBox();
            if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
            for (let i = 0; i < 80 && (await zoomOf(page)) < 0.97; i++) {
              await page.mouse.wheel(0, -40);
              await page.waitForTimeout(30);
            }
            await page.waitForTimeout(300);
          }
          const visible = await page.locator(".react-flow__node").count();
          const far = await page.locator(".step--far").count();
          const farSteps = page.locator(".far-steps");
          const layer =
            (await farSteps.count()) > 0
              ? Number((await farSteps.first().getAttribute("data-steps")) ?? 0)
              : 0;
          const idle = await measure(page, () => page.waitForTimeout(seconds * 1000));
          const panned = await measure(page, () => pan(page, seconds));
          const dragged = await measure(page, () => drag(page, seconds));
          console.log(
            `  ${view} (zoom ${(await zoomOf(page)).toFixed(2)}) — ${visible} nodes in the DOM, ${far} of them plain far-out boxes; ${layer} steps drawn as far-out paths`,
          );
          console.log(row("idle (baseline)", idle, idle));
          console.log(row("pan", panned, idle));
          if (view === "fit (whole journey)")
            summary.push(
              `  ${draft.nodes.length} steps: fitted pan ${panned.fps.toFixed(1)} fps, p95 ${panned.p95.toFixed(1)} ms (idle ${idle.fps.toFixed(1)} fps)`,
            );
          console.log(row("drag a node", dragged, idle));
        }
        await page.close();
      }
      console.log("\nGoals: p95 ≤ 16.7 ms at 500 nodes / 600 edges; ≥ 30 fps at 1,000 nodes.");
      console.log(
        `Issue 18 goals: first step drawn ≤ 1,000 ms at 1,000 steps; fitted pan 60 fps at 5,000. Load average now ${loadavg()[0]?.toFixed(1)}.\n${summary.join("\n")}`,
      );
    } finally {
      await server.close();
    }
  } finally {
    await browser.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}
