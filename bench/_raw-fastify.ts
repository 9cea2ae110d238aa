// The raw baseline of bench/landing-page.ts (not a benchmark itself: run.ts skips files starting
// with "_"): a bare Fastify server, the same Fastify as apps/server, in its own process like the
// real server. GET /static answers a static string; POST /form parses an urlencoded body and
// answers 303, as a form post does. Prints "listening <port>" once ready.
import cluster from "node:cluster";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

type Reply = {
  code(n: number): Reply;
  header(k: string, v: string): Reply;
  send(b?: unknown): Reply;
};
type App = {
  get(path: string, h: () => string): void;
  post(path: string, h: (req: { body: unknown }, reply: Reply) => Reply): void;
  addContentTypeParser(
    type: string,
    opts: { parseAs: "string" },
    parse: (req: unknown, body: string, done: (err: null, v: unknown) => void) => void,
  ): void;
  listen(o: { host: string; port: number }): Promise<string>;
  server: { address(): { port: number } };
};

// argv[3] > 1: that many cluster processes on the port (landing-page --http-processes), as the
// real server runs with HTTP_PROCESSES; the primary only forks them.
const processes = Number(process.argv[3] ?? 1);
if (cluster.isPrimary && processes > 1) {
  let listening = 0;
  cluster.on("listening", (_w, a) => {
    if (++listening === processes) process.stdout.write(`listening ${a.port}\n`);
  });
  for (let i = 0; i < processes; i++) cluster.fork();
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  await serve();
}

async function serve() {
  const here = dirname(fileURLToPath(import.meta.url));
  // bench does not depend on Fastify: load the server's own copy.
  const require = createRequire(resolve(here, "../apps/server/package.json"));
  const fastify = require("fastify") as (opts: { logger: boolean }) => App;

  const app = fastify({ logger: false });
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body))),
  );
  app.get("/static", () => "Hello, this is a static string.");
  app.post("/form", (req, reply) =>
    reply
      .code(303)
      .header("location", `/thanks/${Object.keys(req.body as object).length}`)
      .send(),
  );
  await app.listen({ host: "127.0.0.1", port: Number(process.argv[2] ?? 0) });
  process.stdout.write(`listening ${app.server.address().port}\n`);
}
