// A local HTTP receiver standing in for a webhook/SMS/push provider in tests. It records every
// delivery with its idempotency key (Standard Webhooks `webhook-id`, `Idempotency-Key`, Twilio's
// token) and, like a real receiver that honours those keys, processes each key once: `deliveries`
// counts every request that arrived, `processed` the distinct keys.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Delivery {
  key: string | null;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type SinkReply = { status: number; body?: unknown } | "hang" | "destroy";

export interface Sink {
  url: string;
  deliveries: Delivery[];
  /** Distinct idempotency keys, with how many times each arrived. */
  processed: Map<string, number>;
  /** Replaces how the sink answers (default 200 {"ok":true}). */
  setReply(fn: (d: Delivery, attempt: number) => SinkReply): void;
  close(): Promise<void>;
}

function keyOf(h: IncomingHttpHeaders): string | null {
  const v =
    h["webhook-id"] ??
    h["idempotency-key"] ??
    h["i-twilio-idempotency-token"] ??
    h["x-postpath-idempotency-key"];
  return typeof v === "string" ? v : null;
}

export async function startSink(): Promise<Sink> {
  const deliveries: Delivery[] = [];
  const processed = new Map<string, number>();
  let reply: (d: Delivery, attempt: number) => SinkReply = () => ({
    status: 200,
    body: { ok: true },
  });
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const d: Delivery = {
        key: keyOf(req.headers),
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      deliveries.push(d);
      const attempt = d.key ? (processed.get(d.key) ?? 0) + 1 : 1;
      const r = reply(d, attempt);
      if (r === "hang") {
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      if (r === "destroy") {
        req.socket.destroy();
        return;
      }
      if (r.status < 300 && d.key) processed.set(d.key, (processed.get(d.key) ?? 0) + 1);
      res.writeHead(r.status, { "content-type": "application/json" });
      res.end(JSON.stringify(r.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    processed,
    setReply(fn) {
      reply = fn;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
