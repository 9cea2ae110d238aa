// issue 12: no secret or token in a URL that reaches the log. Fastify logs every request line at
// info level; this serializer writes the URL without the parts that can carry a secret:
// - the query string of any tRPC call that includes an `auth.*` procedure (its input is the
//   query string for GET calls: invite and reset tokens, passwords if a client ever sent them so);
// - any query parameter whose name suggests a secret (token, password, secret, key, code, …);
// - the token in a personalised-URL path (`/p/<token>`), a capability link to a customer's page;
// - issue 16: the token of an unsubscribe link (`/u/<token>`) and an inbound SMS address's key.
import type { FastifyRequest } from "fastify";

const SECRET_PARAM = /token|passw|secret|key|code|auth|sig|session/i;
const REDACTED = "[redacted]";

export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  let path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? null : url.slice(q + 1);
  path = path.replace(/^\/p\/([^/]+)/, (_m, token: string) => `/p/${token.slice(0, 4)}…`);
  // issue 16: unsubscribe links (anyone holding one can change that customer's subscriptions)
  // and the key of a workspace's inbound SMS address.
  path = path
    .replace(/^\/u\/([^/]+)/, (_m, token: string) => `/u/${token.slice(0, 4)}…`)
    .replace(/^(\/sms\/inbound\/[^/]+\/)[^/]+/, `$1${REDACTED}`);
  if (query === null) return path;
  if (/^\/trpc\/(?:[^/]*[,/])?auth\./.test(path)) return `${path}?${REDACTED}`;
  const params = query.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    const name = eq === -1 ? pair : pair.slice(0, eq);
    let decoded: string;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      return REDACTED; // undecodable: say nothing about it
    }
    return eq !== -1 && SECRET_PARAM.test(decoded) ? `${name}=${REDACTED}` : pair;
  });
  return `${path}?${params.join("&")}`;
}

/** Fastify's own request fields, with the URL redacted. */
export function serializeRequest(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
