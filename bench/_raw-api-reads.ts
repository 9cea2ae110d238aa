// The raw baseline of bench/api-reads.ts (not a benchmark itself: run.ts skips files starting with
// "_"): a bare Fastify server (apps/server's copy) in its own process, each route one indexed `pg`
// query of the same data as the product's procedure, its rows sent as JSON. No session, no tRPC,
// no Prisma. Prints "listening <port>" once ready.
//   tsx bench/_raw-api-reads.ts <databaseUrl> [port]
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

type Req = { query: Record<string, string | undefined> };
type App = {
  get(path: string, h: (req: Req) => Promise<unknown>): void;
  listen(o: { host: string; port: number }): Promise<string>;
  server: { address(): { port: number } };
};

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "../apps/server/package.json"));
const fastify = require("fastify") as (opts: { logger: boolean }) => App;
// bench does not depend on pg either: the db package's copy.
type Pool = { query(sql: string, params: unknown[]): Promise<{ rows: unknown[] }> };
const pg = createRequire(resolve(here, "../packages/db/package.json"))("pg") as {
  Pool: new (o: { connectionString?: string; max: number }) => Pool;
};

const pool = new pg.Pool({ connectionString: process.argv[2], max: 10 });
const app = fastify({ logger: false });
// The journey list's first page as the list page asks for it: a workspace's 50 newest-changed
// journeys (index (workspaceId, status)).
app.get(
  "/list",
  async (req) =>
    (
      await pool.query(
        `SELECT id, name, status, "updatedAt" FROM "Journey"
         WHERE "workspaceId" = $1 AND status <> 'ARCHIVED' ORDER BY "updatedAt" DESC, id DESC
         LIMIT 50`,
        [req.query.ws],
      )
    ).rows,
);
// The editor load: one journey with its draft (primary key).
app.get(
  "/journey",
  async (req) =>
    (
      await pool.query(
        `SELECT id, name, status, draft, "draftRevision", "updatedAt" FROM "Journey"
         WHERE id = $1 AND "workspaceId" = $2`,
        [req.query.id, req.query.ws],
      )
    ).rows[0] ?? null,
);
// Node counts: one version's step counters summed over shards (primary key prefix).
app.get(
  "/counts",
  async (req) =>
    (
      await pool.query(
        `SELECT "stepId", sum(entered)::int AS entered, sum(completed)::int AS completed,
                sum(sent)::int AS sent, sum(failed)::int AS failed, sum(converted)::int AS converted
         FROM "StepCounter" WHERE "versionId" = $1 GROUP BY "stepId"`,
        [req.query.version],
      )
    ).rows,
);
await app.listen({ host: "127.0.0.1", port: Number(process.argv[3] ?? 0) });
process.stdout.write(`listening ${app.server.address().port}\n`);
