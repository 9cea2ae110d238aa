// `pnpm bench fuzz --trpc`: a long fuzzing run of every tRPC procedure (issue 12) with the cases
// and oracle of apps/server/src/trpc.fuzz.test.ts (apps/server/src/testing/trpc-fuzz.ts), many
// more of them, over real HTTP as a signed-in admin. Prints cases/s, the answers by status and
// every finding (a 5xx, /healthz failing, a journey mutation half-stored); exits 1 when there is any.
//   pnpm bench fuzz --trpc [--runs 200] [--seed N]      (--runs: cases per procedure)
import { startHarness } from "../apps/server/src/testing/harness.ts";
import {
  healthy,
  NOT_FUZZED,
  openSession,
  procedures,
  runTrpcCase,
  sampleTrpcCases,
} from "../apps/server/src/testing/trpc-fuzz.ts";
import { arg, fmt } from "./_engine.ts";

export default async function fuzzTrpc(args: string[]): Promise<void> {
  const runs = arg(args, "runs", 200);
  const seed = arg(args, "seed", Math.floor(Math.random() * 2 ** 31));
  console.log(`tRPC fuzz: --trpc --seed ${seed} --runs ${runs} (per procedure)`);
  const h = await startHarness();
  const findings: string[] = [];
  const statuses = new Map<number, number>();
  let done = 0;
  try {
    let s = await openSession(h);
    const procs = procedures().filter((p) => !NOT_FUZZED.has(p.path) && p.type !== "subscription");
    const t0 = performance.now();
    for (const [i, p] of procs.entries()) {
      for (const c of sampleTrpcCases(p, s.journeyId, s.draft, seed + i, runs)) {
        const out = await runTrpcCase(s, c).catch((err: unknown) => ({
          status: 0,
          findings: [`request failed: ${String(err)}`],
        }));
        statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
        findings.push(...out.findings);
        done++;
      }
      if (!(await healthy(s))) findings.push(`/healthz failed after ${p.path}`);
      // Fuzzed calls may end the session (or lock sign-in): start a new one.
      const me = await fetch(`${h.baseUrl}/trpc/auth.me`, { headers: { cookie: s.cookie } });
      if (!((await me.json()) as { result?: { data: unknown } }).result?.data) {
        await h.db.prisma.loginThrottle.deleteMany({});
        await h.db.prisma.user.updateMany({
          where: { email: h.admin.email },
          data: { role: "ADMIN" },
        });
        s = await openSession(h);
      }
      const seconds = (performance.now() - t0) / 1000;
      console.log(
        `  ${p.path}: ${fmt(done)} cases, ${fmt(done / seconds, 1)} cases/s, ${findings.length} findings`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `\n${fmt(done)} cases over ${procs.length} procedures in ${fmt(seconds, 1)} s: ${fmt(done / seconds, 1)} cases/s`,
    );
    console.log(
      `answers: ${[...statuses.entries()]
        .sort(([a], [b]) => a - b)
        .map(([st, n]) => `${st}: ${fmt(n)}`)
        .join(", ")}`,
    );
    if (findings.length === 0) console.log("findings: none");
    for (const f of findings.slice(0, 20)) console.log(`FINDING ${f}`);
    if (findings.length) process.exitCode = 1;
  } finally {
    await h.close();
  }
}
