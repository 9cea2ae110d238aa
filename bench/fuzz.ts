// Long fuzzing run of the Segment-compatible ingest (issue 12): the cases and oracle of
// apps/server/src/ingest.fuzz.test.ts (apps/server/src/testing/ingest-fuzz.ts), many more of them,
// against the real server on a fresh database and the local Redis. Prints cases/s, the answers by
// status and every finding (a 5xx, /healthz failing, an accepted item missing, a refused one
// stored, a well-formed call refused, a value stored differently), grouped by kind; exits 1 when
// there is any.
//   pnpm bench fuzz [--runs 5000] [--seed N] [--concurrency 4]
//   pnpm bench fuzz --trpc [--runs 200] [--seed N]   (every tRPC procedure: _fuzz-trpc.ts)
import { startHarness } from "../apps/server/src/testing/harness.ts";
import {
  healthy,
  runCase,
  sampleCases,
  unthrottle,
  type Finding,
} from "../apps/server/src/testing/ingest-fuzz.ts";
import { arg, fmt } from "./_engine.ts";
import fuzzTrpc from "./_fuzz-trpc.ts";

export default async function fuzz(args: string[]): Promise<void> {
  if (args.includes("--trpc")) return fuzzTrpc(args); // every tRPC procedure instead (_fuzz-trpc.ts)
  const runs = arg(args, "runs", 5000);
  const seed = arg(args, "seed", Math.floor(Math.random() * 2 ** 31));
  const concurrency = arg(args, "concurrency", 4);
  console.log(`ingest fuzz: --seed ${seed} --runs ${runs} --concurrency ${concurrency}`);
  const h = await startHarness();
  const findings = new Map<string, Finding[]>();
  const statuses = new Map<number, number>();
  let done = 0;
  let items = 0;
  try {
    await unthrottle(h);
    const cases = sampleCases(seed, runs);
    const t0 = performance.now();
    let lastReport = t0;
    const note = (f: Finding) => {
      const list = findings.get(f.kind) ?? [];
      list.push(f);
      findings.set(f.kind, list);
    };
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let next = cases.next(); !next.done; next = cases.next()) {
          const out = await runCase(h, next.value).catch((err: unknown) => ({
            status: 0,
            items: 0,
            findings: [{ kind: "request failed", detail: String(err) }],
          }));
          statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
          out.findings.forEach(note);
          items += out.items;
          done++;
          if (done % 50 === 0 && !(await healthy(h)))
            note({ kind: "/healthz failed", detail: `after ${done} cases` });
          const now = performance.now();
          if (now - lastReport > 10_000) {
            lastReport = now;
            console.log(
              `  ${fmt(done)} cases, ${fmt(done / ((now - t0) / 1000), 1)} cases/s, ${findings.size} kinds of finding`,
            );
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    if (!(await healthy(h))) note({ kind: "/healthz failed", detail: "at the end" });
    console.log(
      `\n${fmt(done)} cases (${fmt(items)} calls and batch items) in ${fmt(seconds, 1)} s: ` +
        `${fmt(done / seconds, 1)} cases/s`,
    );
    console.log(
      `answers: ${[...statuses.entries()]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}: ${fmt(n)}`)
        .join(", ")}`,
    );
    if (findings.size === 0) console.log("findings: none");
    for (const [kind, list] of findings) {
      console.log(`\nFINDING ${kind} (${fmt(list.length)}×), e.g.:`);
      for (const f of list.slice(0, 5)) console.log(`  ${f.detail}`);
    }
    if (findings.size) process.exitCode = 1;
  } finally {
    await h.close();
  }
}
