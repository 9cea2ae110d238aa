// Customers search (issue 16, item 1): N customers (generate_series), then each kind of search
// through the product's `customers.search` (tRPC caller: zod, role check, keyset SQL) against a
// raw `pg` indexed query for the same rows in the same run (baseline: the plain equality /
// range / containment statement with LIMIT, no paging, no mapping).
//   pnpm bench customer-search [--customers 1000000] [--queries 300]
// Goal from issue 16: p99 ≤ 100 ms on 1 million customers.
import type { SessionUser } from "../packages/api/src/trpc.ts";
import { createCaller } from "../packages/api/src/router.ts";
import { arg, fmt, openBench, percentile } from "./_engine.ts";

type Kind = {
  name: string;
  by: "id" | "email" | "phone" | "attribute";
  query: (g: number) => string;
  raw: (g: number) => [string, unknown[]];
};

export default async function main(args: string[]): Promise<void> {
  const n = arg(args, "customers", 1_000_000);
  const queries = arg(args, "queries", 300);
  const env = await openBench();
  try {
    const ws = env.workspaceId;
    const t0 = performance.now();
    // In chunks so one statement's memory stays small; the indexes are in place (as in production).
    const chunk = 100_000;
    for (let from = 1; from <= n; from += chunk) {
      const to = Math.min(n, from + chunk - 1);
      await env.db.query(
        `INSERT INTO "Customer" (id, "workspaceId", "externalId", email, phone, attributes, "updatedAt")
         SELECT 'c' || lpad(g::text, 9, '0'), $1, 'user-' || g, 'person' || g || '@example.com',
                '+4477' || lpad(g::text, 8, '0'),
                jsonb_build_object('first_name', 'Ann', 'member_no', 'M' || g,
                  'plan', (ARRAY['basic','silver','gold','platinum','trial'])[1 + g % 5],
                  'city', 'city-' || (g % 100), 'visits', g % 1000),
                now()
         FROM generate_series($2::int, $3::int) AS g`,
        [ws, from, to],
      );
    }
    await env.db.query(`ANALYZE "Customer"`);
    const loadS = (performance.now() - t0) / 1000;
    console.log(`${fmt(n)} customers inserted (indexes in place) in ${fmt(loadS, 1)} s`);

    const user = await env.db.prisma.user.create({
      data: { workspaceId: ws, email: "bench@example.com", name: "bench", role: "ADMIN" },
    });
    const me: SessionUser = {
      id: user.id,
      email: user.email,
      name: user.name,
      role: "ADMIN",
      workspaceId: ws,
    };
    const caller = createCaller({
      db: env.db,
      engine: env.ctx,
      user: me,
      session: { token: null, set: () => undefined, clear: () => undefined },
    });
    const cols = `id, "externalId", email, phone, attributes, "updatedAt"`;
    const kinds: Kind[] = [
      {
        name: "external id (prefix of one id)",
        by: "id",
        query: (g) => `user-${g}`,
        raw: (g) => [
          `SELECT ${cols} FROM "Customer" WHERE "workspaceId" = $1 AND "externalId" = $2 LIMIT 26`,
          [ws, `user-${g}`],
        ],
      },
      {
        name: "external id prefix (~111 rows)",
        by: "id",
        query: (g) => `user-${Math.floor(g / 10) || 1}`,
        raw: (g) => [
          `SELECT ${cols} FROM "Customer" WHERE "workspaceId" = $1 AND "externalId" >= $2 AND "externalId" < $2 || chr(1114111) ORDER BY "externalId" LIMIT 26`,
          [ws, `user-${Math.floor(g / 10) || 1}`],
        ],
      },
      {
        name: "email (exact)",
        by: "email",
        query: (g) => `person${g}@example.com`,
        raw: (g) => [
          `SELECT ${cols} FROM "Customer" WHERE "workspaceId" = $1 AND email = $2 LIMIT 26`,
          [ws, `person${g}@example.com`],
        ],
      },
      {
        name: "phone prefix (~10 rows)",
        by: "phone",
        query: (g) => `+4477${String(g).padStart(8, "0").slice(0, 7)}`,
        raw: (g) => [
          `SELECT ${cols} FROM "Customer" WHERE "workspaceId" = $1 AND phone >= $2 AND phone < $2 || chr(1114111) ORDER BY phone LIMIT 26`,
          [ws, `+4477${String(g).padStart(8, "0").slice(0, 7)}`],
        ],
      },
      {
        name: "attribute, 1 match (member_no = …)",
        by: "attribute",
        query: (g) => `member_no = M${g}`,
        raw: (g) => [
          `SELECT ${cols} FROM "Customer" WHERE "workspaceId" = $1 AND attributes @> $2::jsonb LIMIT 26`,
          [ws, JSON.stringify({ member_no: `M${g}` })],
        ],
      },
      {
        name: "attribute, 1% match (city = …)",
        by: "attribute",
        query: (g) => `city = city-${g % 100}`,
        raw: (g) => [
          `SELECT ${cols} FROM "Customer" WHERE "workspaceId" = $1 AND attributes @> $2::jsonb LIMIT 26`,
          [ws, JSON.stringify({ city: `city-${g % 100}` })],
        ],
      },
      {
        name: "attribute, 20% match (plan = …)",
        by: "attribute",
        query: (g) => `plan = ${["basic", "silver", "gold", "platinum", "trial"][g % 5]}`,
        raw: (g) => [
          `SELECT ${cols} FROM "Customer" WHERE "workspaceId" = $1 AND attributes @> $2::jsonb LIMIT 26`,
          [ws, JSON.stringify({ plan: ["basic", "silver", "gold", "platinum", "trial"][g % 5] })],
        ],
      },
      {
        name: "attribute number (visits = …, 0.1%)",
        by: "attribute",
        query: (g) => `visits = ${g % 1000}`,
        raw: (g) => [
          `SELECT ${cols} FROM "Customer" WHERE "workspaceId" = $1 AND attributes @> $2::jsonb LIMIT 26`,
          [ws, JSON.stringify({ visits: g % 1000 })],
        ],
      },
    ];
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % n);
    };
    const time = async (fn: () => Promise<unknown>) => {
      const t = performance.now();
      await fn();
      return performance.now() - t;
    };
    console.log(
      `\n${"search".padEnd(38)} ${"ours p50".padStart(9)} ${"p99".padStart(7)} ${"page 2 p99".padStart(11)} ${"raw p50".padStart(8)} ${"p99".padStart(7)}  ratio p99`,
    );
    for (const k of kinds) {
      const gs = Array.from({ length: queries }, random);
      // Warm both paths (plan cache, buffers) with other values.
      for (let i = 0; i < 20; i++) {
        const g = random();
        await caller.customers.search({ query: k.query(g), by: k.by });
        const [sql, params] = k.raw(g);
        await env.db.query(sql, params);
      }
      const ours: number[] = [];
      const raw: number[] = [];
      const page2: number[] = [];
      // Interleaved, so drift on a shared machine hits both alike.
      for (const g of gs) {
        let first: Awaited<ReturnType<typeof caller.customers.search>> | null = null;
        ours.push(
          await time(async () => {
            first = await caller.customers.search({ query: k.query(g), by: k.by });
          }),
        );
        const [sql, params] = k.raw(g);
        raw.push(await time(() => env.db.query(sql, params)));
        const cursor = (first as { nextCursor: string | null } | null)?.nextCursor;
        if (cursor)
          page2.push(
            await time(() => caller.customers.search({ query: k.query(g), by: k.by, cursor })),
          );
      }
      for (const a of [ours, raw, page2]) a.sort((x, y) => x - y);
      const p = (a: number[], q: number) => (a.length ? fmt(percentile(a, q), 1) : "—");
      console.log(
        `${k.name.padEnd(38)} ${p(ours, 50).padStart(9)} ${p(ours, 99).padStart(7)} ${p(page2, 99).padStart(11)} ${p(raw, 50).padStart(8)} ${p(raw, 99).padStart(7)}  ${fmt(percentile(ours, 99) / percentile(raw, 99), 2)}×`,
      );
    }
    console.log(
      `\n(ms; ${fmt(queries)} searches per kind; page 2 = the next page where there was one)`,
    );
  } finally {
    await env.close();
  }
}
