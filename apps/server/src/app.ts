import fs from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import {
  appRouter,
  readCookie,
  SESSION_COOKIE,
  userForSession,
  type ApiContext,
} from "@postpath/api";
import type { Database } from "@postpath/db";
import type { EngineContext, Keyring, Logger } from "@postpath/engine";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AppRouter } from "@postpath/api";
import { registerIngest } from "./ingest.ts";
import { registerPurl } from "./purl.ts"; // engine issue

export interface AppOptions {
  db: Database;
  engine: EngineContext;
  log: Logger;
  /** Built web app to serve (apps/web/dist); skipped when missing. */
  webDist?: string;
  /** Secure cookies when served over https. */
  secureCookies?: boolean;
  /** Trust X-Forwarded-* headers (set when running behind a reverse proxy). */
  trustProxy?: boolean;
  /** admin issue: master keys for channel credentials (the credentials router needs them). */
  keyring?: Keyring;
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  // Typed as Fastify's base logger so the instance keeps Fastify's default generics.
  const logger: FastifyBaseLogger = opts.log.child({ component: "http" });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: 512 * 1024,
    // Only behind a known reverse proxy may X-Forwarded-For decide the client IP (sign-in throttling).
    trustProxy: opts.trustProxy ?? false,
  });

  app.get("/healthz", async () => {
    await opts.db.query("SELECT 1");
    return { ok: true };
  });

  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      async createContext({ req, res }): Promise<ApiContext> {
        const token = readCookie(req.headers.cookie, SESSION_COOKIE);
        const user = await userForSession(opts.db, token);
        const cookie = (value: string, expires: Date) =>
          `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Expires=${expires.toUTCString()}${opts.secureCookies ? "; Secure" : ""}`;
        return {
          db: opts.db,
          engine: opts.engine,
          user,
          ...(opts.keyring ? { keyring: opts.keyring } : {}), // admin issue
          ip: req.ip, // admin issue: sign-in throttling
          session: {
            token,
            set: (t, expiresAt) => void res.header("set-cookie", cookie(t, expiresAt)),
            clear: () => void res.header("set-cookie", cookie("", new Date(0))),
          },
        };
      },
      onError({ error, path: p }) {
        if (error.code === "INTERNAL_SERVER_ERROR")
          opts.log.error({ path: p, err: error.message }, "tRPC error");
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });

  registerIngest(app, opts);
  registerPurl(app, opts); // engine issue

  if (opts.webDist && fs.existsSync(path.join(opts.webDist, "index.html"))) {
    await app.register(fastifyStatic, { root: opts.webDist, wildcard: false });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === "GET" && !req.url.startsWith("/trpc") && !req.url.startsWith("/v1/")) {
        return reply.type("text/html").sendFile("index.html");
      }
      return reply.code(404).send({ error: "Not found" });
    });
  }
  return app;
}
