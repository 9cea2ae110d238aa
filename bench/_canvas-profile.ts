// Where the canvas's time goes (not a benchmark: a tool for bench/canvas-frames.ts). Builds the
// canvas bench page unminified, opens a generated journey in headless Chromium with a Chromium
// performance trace running (Playwright's browser.startTracing: devtools timeline + V8 CPU
// profiler), and prints, for the opening (navigation → first step drawn → fitted view settled)
// and for a fitted pan: the renderer main thread's time by trace event (inclusive) and the
// heaviest JavaScript functions by self time (from the CPU profile samples).
//   pnpm --filter @postpath/bench exec tsx _canvas-profile.ts [--sizes 1000,5000] [--seconds 3]
//     [--top 30] [--keep <dir>] (writes the raw traces there, for chrome://tracing or DevTools)
//   pnpm --filter @postpath/bench exec tsx _canvas-profile.ts --analyse <dir>/open-1000.json
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { draftScript, generateCanvasJourney, serve } from "./canvas-frames.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const WEB = path.resolve(here, "../apps/web");

const CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "v8.execute",
  "blink.user_timing",
  "disabled-by-default-v8.cpu_profiler",
];

type TraceEvent = {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  id?: string;
  args?: Record<string, unknown>;
};

type ProfileNode = {
  id: number;
  parent?: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
};

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Inclusive time of the main-thread events we care about, and self time per JS function. */
function analyse(events: TraceEvent[], top: number): string {
  const main = events.find(
    (e) => e.name === "thread_name" && (e.args as { name?: string })?.name === "CrRendererMain",
  );
  // The busiest renderer main thread is the page's (other renderers are about:blank etc.).
  const mains = events.filter(
    (e) => e.name === "thread_name" && (e.args as { name?: string })?.name === "CrRendererMain",
  );
  let best = main;
  let bestTotal = -1;
  for (const m of mains) {
    const total = events
      .filter((e) => e.pid === m.pid && e.tid === m.tid && e.name === "RunTask" && e.dur)
      .reduce((a, e) => a + (e.dur ?? 0), 0);
    if (total > bestTotal) {
      bestTotal = total;
      best = m;
    }
  }
  if (!best) return "  (no renderer main thread in the trace)";
  const onMain = events.filter((e) => e.pid === best.pid && e.tid === best.tid);
  const byName = new Map<string, { ms: number; n: number }>();
  for (const e of onMain) {
    if (e.ph !== "X" || !e.dur) continue;
    const entry = byName.get(e.name) ?? { ms: 0, n: 0 };
    entry.ms += e.dur / 1000;
    entry.n++;
    byName.set(e.name, entry);
  }
  const lines = [
    `  main thread busy (RunTask): ${(bestTotal / 1000).toFixed(0)} ms; by event (inclusive, nested events counted in each):`,
  ];
  const interesting = [...byName.entries()]
    .filter(([, v]) => v.ms >= 5)
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 22);
  for (const [name, v] of interesting)
    lines.push(`    ${name.padEnd(34)} ${v.ms.toFixed(0).padStart(7)} ms  ×${v.n}`);

  // CPU profile: Profile + ProfileChunk events (same id) on the page's renderer.
  const nodes = new Map<number, ProfileNode>();
  const self = new Map<number, number>();
  for (const e of events) {
    if (e.pid !== best.pid || e.name !== "ProfileChunk") continue;
    const data = (e.args as { data?: Record<string, unknown> })?.data ?? {};
    const cpu = data.cpuProfile as { nodes?: ProfileNode[]; samples?: number[] } | undefined;
    for (const n of cpu?.nodes ?? []) nodes.set(n.id, n);
    const deltas = (data.timeDeltas as number[] | undefined) ?? [];
    const samples = cpu?.samples ?? [];
    // A sample's time is the delta to the next one (approximation).
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i] as number;
      const dt = deltas[i + 1] ?? deltas[i] ?? 0;
      self.set(id, (self.get(id) ?? 0) + Math.max(0, dt));
    }
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    const file = frame.url ? frame.url.replace(/^.*\//, "") : "(native)";
    const key = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const sampled = [...self.values()].reduce((a, b) => a + b, 0);
  lines.push(
    `  JS self time by function (CPU profile, ${(sampled / 1000).toFixed(0)} ms sampled):`,
  );
  for (const [key, us] of [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`    ${(us / 1000).toFixed(1).padStart(8)} ms  ${key}`);
  return lines.join("\n");
}

async function traced(
  browser: Browser,
  page: Page,
  keep: string | undefined,
  label: string,
  act: () => Promise<void>,
): Promise<TraceEvent[]> {
  await browser.startTracing(page, { categories: CATEGORIES });
  await act();
  const buffer = await browser.stopTracing();
  if (keep) writeFileSync(path.join(keep, `${label}.json`), buffer);
  const parsed = JSON.parse(buffer.toString("utf8")) as { traceEvents: TraceEvent[] };
  return parsed.traceEvents;
}

// Records, in the page, when the first step is in the DOM and when it has been painted.
const FIRST_STEP = `(() => {
  window.__firstStep = null;
  window.__firstPaint = null;
  const seen = () => {
    if (window.__firstStep !== null) return;
    // A React Flow node, or (over 300 steps, far out) a path of the far-steps layer.
    if (!document.querySelector('.react-flow__node, .far-steps__path')) return;
    window.__firstStep = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__firstPaint = performance.now(); }, 0));
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
})()`;

export default async function canvasProfile(args: string[]): Promise<void> {
  const saved = arg(args, "analyse");
  if (saved) {
    // Re-reads a trace written by --keep.
    const parsed = JSON.parse(readFileSync(saved, "utf8")) as { traceEvents: TraceEvent[] };
    console.log(analyse(parsed.traceEvents, Number(arg(args, "top") ?? 30)));
    return;
  }
  const sizes = (arg(args, "sizes") ?? "1000,5000").split(",").map(Number);
  const seconds = Number(arg(args, "seconds") ?? 3);
  const top = Number(arg(args, "top") ?? 30);
  const keep = arg(args, "keep");
  if (keep) mkdirSync(keep, { recursive: true });
  const outDir = mkdtempSync(path.join(tmpdir(), "postpath-canvas-profile-"));
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
      "error",
      "--minify",
      "false",
    ],
    { cwd: WEB, stdio: ["ignore", "inherit", "inherit"] },
  );
  const server = await serve(outDir);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  try {
    console.log(
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
    for (const size of sizes) {
      const draft = generateCanvasJourney(size, Math.round(size * 1.2));
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.addInitScript(draftScript(draft));
      await page.addInitScript(FIRST_STEP);
      const open = await traced(browser, page, keep, `open-${size}`, async () => {
        await page.goto(server.url);
        await page.waitForFunction("window.__firstPaint !== null", undefined, { timeout: 120_000 });
        await page.waitForTimeout(1500);
      });
      const firstStep = await page.evaluate<number>("window.__firstStep");
      const firstPaint = await page.evaluate<number>("window.__firstPaint");
      console.log(
        `\n${size} steps — opening: first step in the DOM ${firstStep.toFixed(0)} ms, painted ${firstPaint.toFixed(0)} ms after navigation start`,
      );
      console.log(analyse(open, top));
      const box = await page.locator(".react-flow__pane").boundingBox();
      if (!box) throw new Error("no pane");
      const panEvents = await traced(browser, page, keep, `pan-${size}`, async () => {
        const x0 = box.x + 12;
        const y0 = box.y + box.height / 2;
        await page.mouse.move(x0, y0);
        await page.mouse.down();
        const end = Date.now() + seconds * 1000;
        for (let i = 0; Date.now() < end; i++)
          await page.mouse.move(x0 + 150 * Math.sin(i / 10), y0 + 100 * Math.cos(i / 10));
        await page.mouse.up();
      });
      console.log(`\n${size} steps — fitted pan, ${seconds} s:`);
      console.log(analyse(panEvents, top));
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await canvasProfile(process.argv.slice(2));
