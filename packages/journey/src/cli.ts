// The journey CLI: `pnpm journey simulate journey.json --customer c.json --events e.json`.
// The only file in this package that does I/O.
// eslint-disable-next-line no-restricted-imports -- the CLI reads the JSON files it is given; nothing else in the package does I/O
import { readFileSync } from "node:fs";
// eslint-disable-next-line no-restricted-imports -- resolving the user's paths
import { resolve } from "node:path";
import {
  CustomerSnapshot,
  compile,
  errorsOnly,
  isWarning,
  parsePlan,
  simulate,
  templates,
  validate,
  type Plan,
  type SimulationEvent,
  type ValidationIssue,
} from "./index.ts";

const USAGE = `Usage:
  journey simulate <journey.json | template:<id>> [--customer c.json] [--events e.json]
                   [--start <ISO date>] [--until <ISO date | 30d>] [--run-id <id>] [--fail <stepId,...>] [--json]
  journey validate <journey.json | template:<id>>
  journey templates                 list the gallery
  journey template <id>             print a gallery template's draft (JSON)

<journey.json> holds a draft (nodes + edges) or a compiled plan (steps).
Events: [{ "at": "2025-05-05T08:00:00Z" | epoch ms | "+3d", "name": "purchase", "properties": {…} }]
Relative times (+3d, +12h, +30m) count from --start (default: the first event).`;

class UsageError extends Error {}

function cwd(): string {
  // pnpm runs package scripts in the package directory; INIT_CWD is where the user typed the command.
  return process.env["INIT_CWD"] ?? process.cwd();
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(resolve(cwd(), path), "utf8")) as unknown;
  } catch (e) {
    throw new UsageError(`Cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function loadDocument(ref: string): unknown {
  if (ref.startsWith("template:")) {
    const t = templates.find((x) => x.id === ref.slice("template:".length));
    if (!t)
      throw new UsageError(
        `No template "${ref.slice(9)}". Try: ${templates.map((x) => x.id).join(", ")}`,
      );
    return t.draft;
  }
  return readJson(ref);
}

function printIssues(issues: ValidationIssue[]): void {
  for (const i of issues) {
    const where = [
      i.nodeId && `node ${i.nodeId}`,
      i.edgeId && `edge ${i.edgeId}`,
      i.field && `field ${i.field}`,
      i.branch && `branch ${i.branch}`,
    ]
      .filter(Boolean)
      .join(", ");
    const mark = isWarning(i) ? "! warning" : "✗";
    console.log(`  ${mark} [${i.code}]${where ? ` (${where})` : ""} ${i.message}`);
  }
}

function loadPlan(ref: string): Plan {
  const doc = loadDocument(ref);
  if (doc !== null && typeof doc === "object" && "steps" in doc) return parsePlan(doc);
  const r = compile(doc);
  if (!r.ok) {
    console.log(`The journey has ${r.errors.length} problem(s):`);
    printIssues(r.errors);
    process.exit(1);
  }
  return r.plan;
}

const UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

function parseRelative(text: string): number | null {
  const m = /^\+?(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  return m ? Number(m[1]) * (UNITS[m[2] ?? "d"] ?? 0) : null;
}

function parseTime(value: unknown, base: number | null, what: string): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const rel = parseRelative(value);
    if (rel !== null && value.trim().startsWith("+")) {
      if (base === null) throw new UsageError(`${what}: "${value}" is relative; give --start.`);
      return base + rel;
    }
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  throw new UsageError(`${what}: cannot read the time ${JSON.stringify(value)}.`);
}

function parseArgs(argv: string[]): { positional: string[]; flags: Map<string, string | true> } {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a.startsWith("--")) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("--") && a !== "--json") {
        flags.set(a.slice(2), next);
        i++;
      } else flags.set(a.slice(2), true);
    } else positional.push(a);
  }
  return { positional, flags };
}

function flag(flags: Map<string, string | true>, name: string): string | undefined {
  const v = flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value.`);
  return v;
}

function short(value: unknown, max = 110): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function runSimulate(positional: string[], flags: Map<string, string | true>): void {
  const ref = positional[0];
  if (!ref) throw new UsageError("simulate: which journey?");
  const plan = loadPlan(ref);
  const customerFile = flag(flags, "customer");
  const customer = CustomerSnapshot.parse(
    customerFile
      ? readJson(customerFile)
      : {
          id: "sim-customer",
          externalId: "sim-customer",
          email: "sim@example.com",
          attributes: {},
          tags: [],
        },
  );
  const eventsFile = flag(flags, "events");
  const rawEvents = eventsFile ? readJson(eventsFile) : [];
  if (!Array.isArray(rawEvents)) throw new UsageError("The events file must hold a JSON array.");
  const startFlag = flag(flags, "start");
  let start: number | null = startFlag ? parseTime(startFlag, null, "--start") : null;
  const absolute = rawEvents
    .map((e: { at?: unknown }) =>
      typeof e.at === "string" && e.at.trim().startsWith("+") ? null : e.at,
    )
    .filter((x): x is string | number => x !== null && x !== undefined)
    .map((x) => parseTime(x, null, "event"));
  start ??= absolute.length > 0 ? Math.min(...absolute) : Date.now();
  const base = start;
  const events: SimulationEvent[] = rawEvents.map(
    (e: { at?: unknown; name?: unknown; properties?: unknown }, i: number) => {
      if (typeof e.name !== "string") throw new UsageError(`Event ${i + 1} has no name.`);
      return {
        at: parseTime(e.at, base, `event ${i + 1}`),
        name: e.name,
        properties:
          e.properties !== null && typeof e.properties === "object"
            ? (e.properties as Record<string, unknown>)
            : {},
      };
    },
  );
  const untilFlag = flag(flags, "until") ?? "365d";
  const rel = parseRelative(untilFlag);
  const until = rel !== null ? start + rel : parseTime(untilFlag, start, "--until");
  const result = simulate(plan, customer, events, {
    start,
    until,
    runId: flag(flags, "run-id"),
    failSteps: flag(flags, "fail")
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  });
  if (flags.get("json") === true) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  if (!result.entered) {
    console.log(`Not entered: ${result.notEntered ?? "no reason"}`);
    return;
  }
  const width = Math.max(...result.timeline.map((t) => (t.stepId ?? "").length), 4);
  console.log("Timeline");
  for (const t of result.timeline) {
    const detail = Object.keys(t.detail).length > 0 ? `  ${short(t.detail)}` : "";
    console.log(
      `  ${new Date(t.at).toISOString()}  ${(t.stepId ?? "-").padEnd(width)}  ${t.decision}${detail}`,
    );
  }
  if (result.messages.length > 0) {
    console.log("\nMessages");
    for (const m of result.messages) {
      console.log(`  ${new Date(m.at).toISOString()}  ${m.stepId} (${m.channel})`);
      for (const [k, v] of Object.entries(m.rendered)) console.log(`      ${k}: ${short(v)}`);
    }
  }
  const s = result.finalState;
  console.log(
    `\nStatus: ${result.status}${s?.exitReason ? ` (${s.exitReason})` : ""}${s?.converted ? `, converted (${s.conversion?.goal ?? ""})` : ""}; path: ${result.path.join(" → ")}`,
  );
}

function main(argv: string[]): void {
  const { positional, flags } = parseArgs(argv);
  const [command = "help", ...rest] = positional;
  switch (command) {
    case "simulate":
      runSimulate(rest, flags);
      return;
    case "validate": {
      const ref = rest[0];
      if (!ref) throw new UsageError("validate: which journey?");
      const issues = validate(loadDocument(ref));
      const errors = errorsOnly(issues);
      if (issues.length === 0) console.log("✓ The journey is valid.");
      else if (errors.length === 0) {
        console.log(`✓ The journey is valid, with ${issues.length} warning(s):`);
        printIssues(issues);
      } else {
        console.log(`The journey has ${errors.length} problem(s):`);
        printIssues(issues);
        process.exitCode = 1;
      }
      return;
    }
    case "templates":
      for (const t of templates)
        console.log(`${t.id.padEnd(24)} ${t.name}\n${" ".repeat(25)}${t.description}`);
      return;
    case "template": {
      const t = templates.find((x) => x.id === rest[0]);
      if (!t)
        throw new UsageError(
          `No template "${rest[0] ?? ""}". Try: ${templates.map((x) => x.id).join(", ")}`,
        );
      console.log(JSON.stringify(t.draft, null, 2));
      return;
    }
    default:
      console.log(USAGE);
      process.exitCode = command === "help" ? 0 : 2;
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    console.error(e.message);
    process.exitCode = 2;
  } else throw e;
}
