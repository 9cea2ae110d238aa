// Fuzzing every public tRPC procedure on the real server over HTTP, as a signed-in admin (issue 12,
// "Fuzzing in CI"; cases and oracle in testing/trpc-fuzz.ts): never a 5xx, /healthz stays healthy,
// journey mutations never half-store. Bounded and seeded: the seed is printed; FUZZ_SEED and
// FUZZ_RUNS (cases per procedure) override them.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./testing/harness.ts";
import {
  caseFor,
  healthy,
  NOT_FUZZED,
  openSession,
  procedures,
  runTrpcCase,
  type Session,
} from "./testing/trpc-fuzz.ts";

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const numRuns = Number(process.env.FUZZ_RUNS ?? 20);

describe("tRPC fuzzing", () => {
  let h: Harness;
  let s: Session;
  beforeAll(async () => {
    h = await startHarness();
    s = await openSession(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Some fuzzed calls may end the session or lock sign-in: start a new one when that happens. */
  async function stillSignedIn() {
    const me = await fetch(`${h.baseUrl}/trpc/auth.me`, { headers: { cookie: s.cookie } });
    const body = (await me.json()) as { result?: { data: unknown } };
    if (body.result?.data) return;
    await h.db.prisma.loginThrottle.deleteMany({});
    await h.db.prisma.user.updateMany({
      where: { email: h.admin.email },
      data: { role: "ADMIN" },
    });
    s = await openSession(h);
  }

  it(`no 5xx, healthy, nothing half-stored (FUZZ_SEED=${seed} FUZZ_RUNS=${numRuns} per procedure)`, async () => {
    console.log(`tRPC fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${numRuns}`);
    const procs = procedures().filter((p) => !NOT_FUZZED.has(p.path) && p.type !== "subscription");
    expect(procs.length).toBeGreaterThan(25);
    const statuses = new Map<number, number>();
    let cases = 0;
    for (const [i, p] of procs.entries()) {
      await fc.assert(
        fc.asyncProperty(caseFor(p, s.journeyId, s.draft), async (c) => {
          const out = await runTrpcCase(s, c);
          cases++;
          statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
          expect(out.findings).toEqual([]);
        }),
        // One seed per procedure, derived from the printed one.
        { seed: seed + i, numRuns },
      );
      expect(await healthy(s), `after ${p.path}`).toBe(true);
      await stillSignedIn();
    }
    console.log(
      `tRPC fuzz: ${cases} cases over ${procs.length} procedures, answers ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    // The cases reach past the gate: some are accepted, and input errors are the usual refusal.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(procs.length);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(cases / 4);
    expect(await healthy(s)).toBe(true);
  }, 600_000);
});
