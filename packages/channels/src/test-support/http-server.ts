// A real HTTP server on 127.0.0.1 (port 0) that stands in for Twilio / push / Slack / webhook
// receivers in tests. It records every request and answers with whatever the test decides.
import { createServer } from "node:http";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SendOptions } from "../types.ts";

/** Send options that let providers reach these servers: 127.0.0.1 is private, so it must be allowed. */
export const LOCAL = { outbound: { allowHosts: ["127.0.0.1"] } } satisfies SendOptions;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Reply =
  | { status: number; body?: string | object; headers?: Record<string, string> }
  /** Never answer: the client has to give up on its own. */
  | "hang";

export interface TestServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startServer(reply: (req: RecordedRequest) => Reply): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      const answer = reply(recorded);
      if (answer === "hang") return;
      send(res, answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, answer: Exclude<Reply, "hang">): void {
  const isJson = typeof answer.body === "object";
  const body =
    typeof answer.body === "string" ? answer.body : isJson ? JSON.stringify(answer.body) : "";
  res.writeHead(answer.status, {
    "content-type": isJson ? "application/json" : "text/plain",
    ...answer.headers,
  });
  res.end(body);
}

/** A URL on which nothing listens (a server that was started and closed again). */
export async function closedPortUrl(): Promise<string> {
  const server = await startServer(() => ({ status: 200 }));
  await server.close();
  return server.url;
}
