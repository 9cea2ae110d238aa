// A kept-alive connection the server closed as the next request went out on it: the request is
// sent again on a fresh connection instead of failing the send (http.ts, StaleConnection).
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LOCAL } from "./test-support/http-server.ts";
import { createWebhookProvider } from "./providers/webhook.ts";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/**
 * Answers the first request of each connection and keeps the connection open; a later request on
 * the same connection finds it closed (destroyed unanswered), as when the server's idle timeout
 * fired just as the client reused it. Counts what it saw.
 */
async function closingReceiver() {
  const seen = { requests: 0, answered: 0, dropped: 0, connections: 0 };
  const onSocket = new WeakMap<Socket, number>();
  server = createServer((req, res) => {
    seen.requests++;
    const n = (onSocket.get(req.socket) ?? 0) + 1;
    onSocket.set(req.socket, n);
    req.resume();
    req.on("end", () => {
      if (n > 1) {
        seen.dropped++;
        req.socket.destroy();
        return;
      }
      seen.answered++;
      res.writeHead(200, { "content-type": "application/json", connection: "keep-alive" });
      res.end('{"ok":true}');
    });
  });
  server.on("connection", () => seen.connections++);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe("kept-alive connections closed by the server", () => {
  it("a request that went out on a connection the server had closed is sent again on another", async () => {
    const { url, seen } = await closingReceiver();
    const webhook = createWebhookProvider({
      url: `${url}/hook`,
      secret: "whsec_" + Buffer.from("a-32-byte-secret-for-the-tests!!").toString("base64"),
    });
    const first = await webhook.send({ idempotencyKey: "k-1", payload: { n: 1 } }, LOCAL);
    expect(first.response).toMatchObject({ status: 200 });
    // The second send reuses the first one's connection, which the receiver drops unanswered.
    const second = await webhook.send({ idempotencyKey: "k-2", payload: { n: 2 } }, LOCAL);
    expect(second.response).toMatchObject({ status: 200 });
    expect(seen).toEqual({ requests: 3, answered: 2, dropped: 1, connections: 2 });
  });
});
