// issue 17, item 1: the click redirect and the open pixel.
//
//   GET /c/:token      a tracked link: records the click (email_clicked / sms_clicked /
//                      push_clicked on the customer, a run trace row, the rollups) and answers 302
//                      to the original URL. A token that is not ours (forged, tampered, cut short)
//                      gets a 400 page and no redirect: the redirect only ever goes where a link we
//                      signed at send time pointed.
//   GET /o/:token.gif  the open pixel (when the workspace turned opens on): records email_opened
//                      and answers a 1×1 transparent GIF that is never cached.
//
// Recording never stands between a customer and their link: if Postgres is unreachable the click
// is logged as lost and the redirect still happens.
import {
  readClickToken,
  readOpenToken,
  recordEngagement,
  type EngineContext,
  type Logger,
} from "@postpath/engine";
import type { FastifyInstance } from "fastify";

export interface EngagementOptions {
  engine: EngineContext;
  log: Logger;
}

/** A 1×1 transparent GIF. */
const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

const INVALID_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>This link doesn't work</title>
<style>body{font:16px/1.5 system-ui,sans-serif;color:#1f2933;max-width:32rem;margin:15vh auto;padding:0 1.5rem}h1{font-size:1.4rem}</style></head>
<body><main><h1>This link doesn't work</h1><p>The link is incomplete or was changed after it was sent. Open it again from the original message, or copy the whole link into your browser.</p></main></body></html>`;

export function registerEngagement(app: FastifyInstance, opts: EngagementOptions): void {
  const { engine } = opts;

  // Wildcards, not `:token`: a token carries its URL, longer than Fastify's 100-character limit
  // for a path parameter (which would answer 414).
  app.get<{ Params: { "*": string } }>("/c/*", async (req, reply) => {
    const link = readClickToken(engine, req.params["*"]);
    if (!link)
      return reply
        .code(400)
        .header("cache-control", "no-store")
        .header("x-robots-tag", "noindex")
        .type("text/html; charset=utf-8")
        .send(INVALID_PAGE);
    try {
      await recordEngagement(engine, "clicked", link.messageId, { url: link.url });
    } catch (err) {
      req.log.warn(
        { messageId: link.messageId, err: err instanceof Error ? err.message : String(err) },
        "click not recorded (the customer is redirected all the same)",
      );
    }
    return reply
      .code(302)
      .header("cache-control", "no-store")
      .header("referrer-policy", "no-referrer")
      .header("location", link.url)
      .send();
  });

  app.get<{ Params: { "*": string } }>("/o/*", async (req, reply) => {
    const m = /^(.+)\.gif$/.exec(req.params["*"]);
    const open = m?.[1] ? readOpenToken(engine, m[1]) : null;
    if (!open)
      return reply
        .code(400)
        .header("cache-control", "no-store")
        .type("text/plain")
        .send("Not a valid image link.");
    try {
      await recordEngagement(engine, "opened", open.messageId);
    } catch (err) {
      req.log.warn(
        { messageId: open.messageId, err: err instanceof Error ? err.message : String(err) },
        "open not recorded",
      );
    }
    return reply
      .code(200)
      .header("cache-control", "no-store, no-cache, must-revalidate, private")
      .header("expires", "0")
      .type("image/gif")
      .send(PIXEL);
  });
}
