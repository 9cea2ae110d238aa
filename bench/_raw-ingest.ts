// The baseline for bench/engine-ingest (run in its own process, as the real server is): a bare
// Fastify server that parses the same JSON bodies with the same parser and answers 200, nothing
// stored. Not a benchmark itself (run.ts skips files starting with "_").
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

type Reply = { code(n: number): Reply; send(b: unknown): unknown };
type App = {
  removeContentTypeParser(t: string): void;
  addContentTypeParser(
    t: string,
    o: { parseAs: "string"; bodyLimit: number },
    fn: (req: unknown, body: string, done: (e: Error | null, v?: unknown) => void) => void,
  ): void;
  post(path: string, h: (req: { body: unknown }, reply: Reply) => unknown): void;
  listen(o: { host: string; port: number }): Promise<string>;
};
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "../apps/server/package.json"));
const fastify = require("fastify") as (opts: object) => App;

const app = fastify({ logger: false });
app.removeContentTypeParser("application/json");
app.addContentTypeParser(
  "application/json",
  { parseAs: "string", bodyLimit: 500 * 1024 },
  (_req, body, done) => {
    try {
      done(null, JSON.parse(body) as unknown);
    } catch (err) {
      done(err as Error);
    }
  },
);
app.post("/v1/batch", (req, reply) => {
  const n = (req.body as { batch?: unknown[] }).batch?.length ?? 0;
  return reply.code(200).send({ success: true, stored: n, duplicate: 0, ignored: 0, refused: [] });
});
app.post("/v1/track", (_req, reply) => reply.code(200).send({ success: true, duplicate: false }));
await app.listen({ host: "127.0.0.1", port: Number(process.argv[2]) });
process.stdout.write("ready\n");
