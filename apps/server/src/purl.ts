// Landing pages for personalised URLs (engine issue): GET /p/:token shows the page the PURL step
// made, personalised with its params, and records the visit (a `purl_visited` event);
// GET /p/:token/qr.png is the QR code of the same URL.
import { createQrCode } from "@postpath/channels";
import { visitPurl, type EngineContext } from "@postpath/engine";
import type { FastifyInstance } from "fastify";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function registerPurl(app: FastifyInstance, opts: { engine: EngineContext }): void {
  app.get<{ Params: { token: string } }>("/p/:token", async (req, reply) => {
    const visit = await visitPurl(opts.engine, req.params.token);
    if (!visit)
      return reply
        .code(404)
        .type("text/html; charset=utf-8")
        .send(
          "<!doctype html><title>Link expired</title><p>This link is unknown or has expired.</p>",
        );
    const rows = Object.entries(visit.params)
      .map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(String(v))}</dd>`)
      .join("");
    return reply
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-store")
      .send(
        `<!doctype html><meta charset="utf-8"><title>${escape(visit.page)}</title><main data-page="${escape(visit.page)}"><h1>${escape(visit.page)}</h1><dl>${rows}</dl></main>`,
      );
  });
  app.get<{ Params: { token: string } }>("/p/:token/qr.png", async (req, reply) => {
    const url = `${opts.engine.publicUrl.replace(/\/$/, "")}/p/${req.params.token}`;
    const qr = await createQrCode(url, { width: 300 });
    return reply
      .type("image/png")
      .header("cache-control", "public, max-age=86400")
      .send(Buffer.from(qr.pngDataUrl.split(",")[1] ?? "", "base64"));
  });
}
