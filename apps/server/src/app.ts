import fs from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import {
  appRouter,
  cachedUserForSession,
  LIST_FIGURES_MAX_AGE_MS,
  readCookie,
  SESSION_COOKIE,
  type AccountSettings,
  type ApiContext,
} from "@postpath/api";
import type { Database } from "@postpath/db";
import type { DependencyMonitor, EngineContext, Keyring, Logger } from "@postpath/engine";
import { TRPCError } from "@trpc/server";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AppRouter } from "@postpath/api";
import { outageOf, registerHealth, RETRY_AFTER_SECONDS, unavailableMessage } from "./health.ts";
import { registerIngest } from "./ingest.ts";
import { serializeRequest } from "./log-redact.ts"; // issue 12
import { registerPurl } from "./purl.ts"; // engine issue
import { registerPrintRun } from "./print-run.ts"; // issue 14: print runs
import { guardTrpcBoundary, newRequestId } from "./trpc-boundary.ts"; // issue 12
import { registerUnsubscribe } from "./unsubscribe.ts"; // issue 16: unsubscribe pages, SMS STOP
import { registerEngagement } from "./engagement.ts"; // issue 17
import { registerAnalyticsExport } from "./analytics-export.ts"; // issue 17
import { registerDeliveryReports } from "./delivery-reports.ts"; // issue 17: provider reports

export interface AppOptions {
  db: Database;
  /** issue 15: DATABASE_REPLICA_URL, for read-only figures (ApiContext.readDb). */
  replica?: Database | null;
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
  /** issue 12: ALLOW_SIGNUP and INSTANCE_OWNER_EMAILS (absent: sign-up off, owners by flag only). */
  accounts?: AccountSettings;
  /** issue 12: PUBLIC_URL; a mutation whose Origin is this site's is accepted without the client header. */
  publicUrl?: string;
  /** issue 12: serve `*.map` files of the web app (development; production only when asked for). */
  serveSourceMaps?: boolean;
  /** Postgres/Redis reachability: /healthz, /readyz and 503 + Retry-After while one is down. */
  monitor: DependencyMonitor;
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  // Typed as Fastify's base logger so the instance keeps Fastify's default generics.
  // issue 12: request lines are logged without tokens (see log-redact.ts).
  const logger: FastifyBaseLogger = opts.log.child(
    { component: "http" },
    { serializers: { req: serializeRequest } },
  );
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: 512 * 1024,
    // Only behind a known reverse proxy may X-Forwarded-For decide the client IP (sign-in throttling).
    trustProxy: opts.trustProxy ?? false,
    // issue 12: random request ids, shown to the client with unexpected errors and in every log line.
    genReqId: () => newRequestId(),
  });

  registerHealth(app, opts.monitor);
  guardTrpcBoundary(app, { publicUrl: opts.publicUrl }); // issue 12: request ids, cross-site mutations

  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      // issue 12: a bounded batch (the web client's httpBatchLink sends at most as many).
      maxBatchSize: 100,
      async createContext({ req, res }): Promise<ApiContext> {
        const down = opts.monitor.down();
        if (down)
          throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: unavailableMessage(down) });
        const token = readCookie(req.headers.cookie, SESSION_COOKIE);
        const user = await cachedUserForSession(opts.db, token); // issue 15: cached briefly
        const cookie = (value: string, expires: Date) =>
          `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Expires=${expires.toUTCString()}${opts.secureCookies ? "; Secure" : ""}`;
        return {
          db: opts.db,
          ...(opts.replica ? { readDb: opts.replica } : {}), // issue 15: read-only figures
          engine: opts.engine,
          user,
          ...(opts.keyring ? { keyring: opts.keyring } : {}), // admin issue
          ip: req.ip, // admin issue: sign-in throttling
          requestId: req.id, // issue 12
          ...(opts.accounts ? { accounts: opts.accounts } : {}), // issue 12
          listFiguresMaxAgeMs: LIST_FIGURES_MAX_AGE_MS, // issue 15: the list's counts, shared briefly
          session: {
            token,
            set: (t, expiresAt) => void res.header("set-cookie", cookie(t, expiresAt)),
            clear: () => void res.header("set-cookie", cookie("", new Date(0))),
          },
        };
      },
      responseMeta({ errors }) {
        // An outage (known, or met by this request) is a 503 the client may retry, not a 500.
        const unavailable = errors.some(
          (e) => e.code === "SERVICE_UNAVAILABLE" || outageOf(opts.monitor, e.cause) !== null,
        );
        return unavailable
          ? { status: 503, headers: new Headers({ "retry-after": String(RETRY_AFTER_SECONDS) }) }
          : {};
      },
      onError({ error, path: p, req }) {
        // issue 12: the client saw a generic message and this request id; the log has the real error.
        if (error.code === "INTERNAL_SERVER_ERROR")
          req.log.error({ reqId: req.id, path: p, err: error.cause ?? error }, "tRPC error");
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });

  registerIngest(app, opts);
  registerPurl(app, opts); // engine issue
  registerPrintRun(app, opts); // issue 14: print runs (CSV + PDF proof of a PURL step)
  registerUnsubscribe(app, opts); // issue 16: /u/:token and /sms/inbound
  registerEngagement(app, opts); // issue 17: /c/:token clicks, /o/:token.gif opens
  registerAnalyticsExport(app, opts); // issue 17: analytics tables as CSV
  registerDeliveryReports(app, opts); // issue 17: /hooks/twilio, /hooks/sendgrid delivery reports

  if (opts.webDist && fs.existsSync(path.join(opts.webDist, "index.html"))) {
    // issue 12: source maps (the original sources) only when asked for.
    const isMap = (p: string) => /\.map(?:$|\?)/.test(p);
    await app.register(fastifyStatic, {
      root: opts.webDist,
      wildcard: false,
      allowedPath: (p) => opts.serveSourceMaps === true || !isMap(p),
    });
    app.setNotFoundHandler((req, reply) => {
      if (
        req.method === "GET" &&
        !req.url.startsWith("/trpc") &&
        !req.url.startsWith("/v1/") &&
        !isMap(req.url)
      ) {
        return reply.type("text/html").sendFile("index.html");
      }
      return reply.code(404).send({ error: "Not found" });
    });
  }
  return app;
}
