// issue 12: what every HTTP request to /trpc passes before tRPC sees it.
// - Finding 7: a mutation is a POST with `Content-Type: application/json` AND either the client
//   header below or an `Origin` equal to PUBLIC_URL's. A page on another site can send a form or
//   `text/plain` POST with the victim's cookie, but not JSON or a custom header without a CORS
//   preflight, which this server never grants. Queries (GET) change nothing and stay as they are;
//   /v1 ingest (Basic-auth write key), personalised URLs and landing pages are not under /trpc.
// - Finding 8: every response carries the request id (`x-request-id`), the one in the log lines.
import { randomHex } from "@postpath/engine";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Sent by the web app's tRPC client (apps/web/src/trpc.ts) on every request. */
export const CLIENT_HEADER = "x-postpath-client";

/**
 * Short random request ids (Fastify's default `req-1` restarts at 1 and repeats across processes):
 * 16 hex digits, from the engine's pooled random bytes (a `randomBytes` call per request was 3 %
 * of the server's CPU under landing-page load).
 */
export function newRequestId(): string {
  return randomHex(8);
}

/** Why a request to /trpc is refused as possibly cross-site, or null when it may proceed. */
export function crossSiteRefusal(
  req: Pick<FastifyRequest, "method" | "url" | "headers">,
  publicOrigin: string | null,
): { status: 403 | 415; message: string } | null {
  if (!req.url.startsWith("/trpc/") && req.url !== "/trpc") return null;
  if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return null;
  const type = (req.headers["content-type"] ?? "").split(";", 1)[0]?.trim().toLowerCase();
  if (type !== "application/json")
    return { status: 415, message: "Send API requests as JSON (Content-Type: application/json)." };
  if (req.headers[CLIENT_HEADER]) return null;
  if (publicOrigin !== null && req.headers.origin === publicOrigin) return null;
  return {
    status: 403,
    message: `This request did not come from the Postpath app. Reload the page; API clients send the ${CLIENT_HEADER} header.`,
  };
}

export function guardTrpcBoundary(app: FastifyInstance, opts: { publicUrl?: string }): void {
  const publicOrigin = opts.publicUrl ? new URL(opts.publicUrl).origin : null;
  app.addHook("onRequest", async (req: FastifyRequest, reply: FastifyReply) => {
    void reply.header("x-request-id", req.id);
    const refusal = crossSiteRefusal(req, publicOrigin);
    if (!refusal) return;
    req.log.warn(
      { method: req.method, url: req.url, origin: req.headers.origin ?? null },
      "cross-site API request refused",
    );
    // The shape of a tRPC error, so tRPC clients show the message.
    await reply.code(refusal.status).send({
      error: {
        message: refusal.message,
        code: -32600,
        data: {
          code: refusal.status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "FORBIDDEN",
          httpStatus: refusal.status,
          requestId: req.id,
        },
      },
    });
    return reply;
  });
}
