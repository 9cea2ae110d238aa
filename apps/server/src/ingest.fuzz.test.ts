// Fuzzing /v1/track, /v1/identify, /v1/page and /v1/batch on the real server (issue 12, "Fuzzing
// in CI"): odd strings of every kind, deep and wide JSON, huge numbers, wrong types, wrong content
// types, malformed, empty and oversize bodies. Never a 5xx, /healthz stays healthy, and nothing
// half-stored (see testing/ingest-fuzz.ts for the oracle). Bounded and seeded: the seed is
// printed; FUZZ_SEED and FUZZ_RUNS override it and the number of cases (a long run: bench/fuzz).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./testing/harness.ts";
import { fuzzCase, healthy, runCase, unthrottle } from "./testing/ingest-fuzz.ts";

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const numRuns = Number(process.env.FUZZ_RUNS ?? 400);

describe("ingest fuzzing", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await unthrottle(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("no 5xx, healthy, nothing half-stored", async () => {
    console.log(`ingest fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${numRuns}`);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fuzzCase(), async (c) => {
        const out = await runCase(h, c);
        statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
        expect(out.findings).toEqual([]);
        expect(await healthy(h)).toBe(true);
      }),
      { seed, numRuns },
    );
    console.log(`ingest fuzz: answers ${JSON.stringify(Object.fromEntries(statuses))}`);
    // The cases reach past the gate: most are stored, and each kind of refusal happens.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(numRuns / 4);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(await healthy(h)).toBe(true);
  }, 600_000);
});
