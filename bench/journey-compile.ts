// Validate + compile a generated 1,000-node journey; p50/p95 over repeated runs, against a raw
// baseline (a JSON round trip of the same document) measured in the same process.
//   pnpm --filter @postpath/bench bench journey-compile [--runs 300]
import {
  compile,
  draftFromSteps,
  validate,
  type JourneyDraft,
  type StepSpec,
} from "@postpath/journey";

const NODES = 1000;

/** A realistic long journey: blocks of wait → coupon → condition split → email / SMS → tag →
 * A/B split → push / webhook → attribute update, chained; templates read the customer, the
 * trigger event and the coupon issued in the same block. `salt` makes every template text unique. */
export function generateJourney(nodes: number, salt = ""): JourneyDraft {
  const steps: StepSpec[] = [
    {
      id: "trigger",
      type: "trigger.event",
      data: { event: "purchase", filters: [{ property: "total", op: "gt", value: 0 }] },
      next: "b0-wait",
    },
  ];
  let b = 0;
  while (steps.length + 10 + 2 <= nodes) {
    const p = `b${b}`;
    const next = `b${b + 1}-wait`;
    steps.push(
      {
        id: `${p}-wait`,
        type: "wait.duration",
        data: { amount: 1 + (b % 5), unit: "days" },
        next: `${p}-coupon`,
      },
      {
        id: `${p}-coupon`,
        type: "action.coupon",
        data: {
          source: { kind: "pattern", pattern: `B${b}-######` },
          value: { kind: "percent", amount: 10 },
          rules: [
            {
              when: [{ property: "event.tier", op: "eq", value: "premium" }],
              value: { kind: "percent", amount: 15 },
            },
          ],
        },
        next: `${p}-split`,
      },
      {
        id: `${p}-split`,
        type: "split.condition",
        data: { conditions: [{ property: "event.total", op: "gte", value: 100 + b }] },
        next: { yes: `${p}-email`, no: `${p}-sms` },
      },
      {
        id: `${p}-email`,
        type: "action.email",
        data: {
          subject: `{{ first_name }}, step ${b}${salt}: {{ coupon.value }}% off`,
          body: `<p>Hi {{ first_name | capitalize }}, your code is {{ coupon.code }}.{% if event.total > 100 %} Thanks for the big order!{% endif %}${salt}</p>`,
        },
        next: `${p}-tag`,
      },
      {
        id: `${p}-sms`,
        type: "action.sms",
        data: { body: `{{ first_name }}: {{ coupon.code }} (${b}${salt})`, onError: "errorBranch" },
        next: { next: `${p}-tag`, error: `${p}-tag` },
      },
      { id: `${p}-tag`, type: "action.tag", data: { add: [`block-${b}`] }, next: `${p}-ab` },
      {
        id: `${p}-ab`,
        type: "split.random",
        data: {
          variants: [
            { id: "a", percent: 45 },
            { id: "b", percent: 45 },
          ],
          holdout: 10,
        },
        next: { a: `${p}-push`, b: `${p}-hook`, holdout: `${p}-attr` },
      },
      {
        id: `${p}-push`,
        type: "action.push",
        data: { title: `Block ${b}${salt}`, body: "{{ coupon.code }}" },
        next: `${p}-attr`,
      },
      {
        id: `${p}-hook`,
        type: "action.webhook",
        data: {
          url: "https://crm.example/hooks/{{ customer.externalId }}",
          body: `{"block":${b},"salt":"${salt}"}`,
        },
        next: `${p}-attr`,
      },
      {
        id: `${p}-attr`,
        type: "action.attribute",
        data: { set: { [`block_${b}`]: "{{ coupon.code }}" } },
        next,
      },
    );
    b++;
  }
  // Pad with waits up to the exact size, then the end.
  let last = `b${b}-wait`;
  for (let i = 0; steps.length + 2 < nodes; i++) {
    const id = i === 0 ? last : `pad-${i}`;
    steps.push({
      id,
      type: "wait.duration",
      data: { amount: 1, unit: "hours" },
      next: `pad-${i + 1}`,
    });
    last = `pad-${i + 1}`;
  }
  steps.push({ id: last, type: "flow.exit" });
  steps.push({
    id: "goal",
    type: "flow.goal",
    data: { name: "second purchase", event: "purchase" },
  });
  return draftFromSteps(steps, {
    exitCriteria: [{ event: "unsubscribed" }],
    quietHours: { start: "21:00", end: "08:00" },
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function measure(runs: number, fn: (i: number) => void): { p50: number; p95: number } {
  for (let i = 0; i < Math.min(20, runs); i++) fn(i); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

const ms = (x: number) => `${x.toFixed(2)} ms`;

export default function main(args: string[]): void {
  const runsArg = args.indexOf("--runs");
  const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 200;
  const doc = generateJourney(NODES);
  const issues = validate(doc);
  const compiled = compile(doc);
  if (issues.length > 0 || !compiled.ok)
    throw new Error(`generated journey is invalid: ${JSON.stringify(issues.slice(0, 3))}`);
  const templates = doc.nodes.filter((n) =>
    ["action.email", "action.sms", "action.push", "action.webhook", "action.attribute"].includes(
      n.type,
    ),
  ).length;
  console.log(
    `journey-compile: ${doc.nodes.length} nodes, ${doc.edges.length} edges, ${templates} steps with templates, ${runs} runs (node ${process.version})`,
  );

  const baseline = measure(runs, () => JSON.parse(JSON.stringify(doc)) as unknown);
  const warm = measure(runs, () => {
    validate(doc);
    compile(doc);
  });
  const compileOnly = measure(runs, () => compile(doc));
  // Every run with never-seen template texts: the Liquid parse cache cannot help.
  const cold = Array.from({ length: Math.min(runs, 60) + 20 }, (_, i) =>
    generateJourney(NODES, ` #${i}`),
  );
  const coldStats = measure(cold.length - 20, (i) => {
    const d = cold[i + 20] ?? doc;
    validate(d);
    compile(d);
  });

  const rows: [string, { p50: number; p95: number }][] = [
    ["baseline: JSON.parse(JSON.stringify(draft))", baseline],
    ["validate + compile (template cache warm)", warm],
    ["compile alone (it validates too)", compileOnly],
    ["validate + compile (every template new)", coldStats],
  ];
  for (const [name, s] of rows) {
    console.log(
      `  ${name.padEnd(46)} p50 ${ms(s.p50).padStart(10)}   p95 ${ms(s.p95).padStart(10)}   ×${(s.p50 / baseline.p50).toFixed(1)} baseline`,
    );
  }
  const verdict = (x: number) => (x <= 20 ? "≤ 20 ms" : "> 20 ms");
  console.log(
    `  goal (issue 3): validate + compile ≤ 20 ms — warm p50 ${verdict(warm.p50)}, p95 ${verdict(warm.p95)}; every-template-new p50 ${verdict(coldStats.p50)}, p95 ${verdict(coldStats.p95)}`,
  );
}
