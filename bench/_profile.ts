// Where a server's CPU went, from the V8 CPU profiles `node --cpu-prof` writes (bench landing-page
// and engine-ingest `--profile`): busy time by package (self), and the repo's functions plus a few
// library entry points (inclusive, synchronous stretches only).
import fs from "node:fs";
import { join } from "node:path";
import { fmt } from "./_engine.ts";

type CpuProfile = {
  nodes: {
    id: number;
    callFrame: { url: string; functionName: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
};

function packageOf(url: string, fn: string): string {
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.includes("/packages/") || url.includes("/apps/"))
    return url.replace(/^.*?\/(packages|apps)\//, "$1/");
  if (url.startsWith("node:")) return url;
  if (url === "") return fn || "(native)";
  return url;
}

/**
 * The profiles in `dir` of the server's main thread and its workers' thread: busy time (idle left out) by
 * package, self time; and the repo's own functions (plus React's and Liquid's entry points) by
 * inclusive CPU time — synchronous stretches only, as a CPU profile sees async code.
 */
export function summariseProfile(
  dir: string,
  mainLabel = "main thread (HTTP, renders):",
): string[] {
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is a process's main thread
  // (the server's renders; tsx's own process is small), others the journey workers' thread.
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => ({ file: join(dir, f), thread: Number(f.split(".").at(-3)) }))
    .sort((a, b) => fs.statSync(b.file).size - fs.statSync(a.file).size);
  const main = files.find((f) => f.thread === 0);
  if (!main) return ["(no profile written)"];
  const worker = files.find((f) => f.thread !== 0);
  return [
    mainLabel,
    ...summariseOne(main.file),
    ...(worker ? ["", "worker thread (journey workers):", ...summariseOne(worker.file, 8)] : []),
  ];
}

function summariseOne(file: string, top = 28): string[] {
  const prof = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const entry =
    /^(renderToStaticMarkup|parseAndRender|renderSync|\$queryRaw|\$executeRaw|findUnique|findMany|add|personalise|renderPage|contextFor|visitPurl|submit|track|processEventJob)$/;
  let busy = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    const fn = node?.callFrame.functionName ?? "";
    if (fn === "(idle)" || fn === "(program)") return;
    busy += dt;
    const g = fn === "(garbage collector)" ? "(gc)" : packageOf(node?.callFrame.url ?? "", fn);
    self.set(g, (self.get(g) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (!n) break;
      const { url, functionName } = n.callFrame;
      const mine = /\/work\/main\/(apps|packages)\//.test(url) && !url.includes("node_modules");
      if (!functionName || (!mine && !entry.test(functionName))) continue;
      const key = `${functionName} (${packageOf(url, functionName)})`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  });
  const pct = (us: number) => `${fmt((us / busy) * 100, 1).padStart(5)} %`;
  return [
    `busy ${fmt(busy / 1e6, 1)} s; self time by package:`,
    ...[...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, Math.min(14, top))
      .map(([g, us]) => `  ${pct(us)}  ${g}`),
    "inclusive time (synchronous stretches) of the repo's functions and library entry points:",
    ...[...inclusive]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([g, us]) => `  ${pct(us)}  ${g}`),
  ];
}
