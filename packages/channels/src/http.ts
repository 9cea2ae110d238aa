// Shared HTTP plumbing for the HTTP providers: the one function every outbound request goes
// through. A deadline, bounded body reads, no redirects followed, one place that decides which
// failures are worth retrying, and the destination check (outbound.ts): requests connect only to
// addresses the outbound policy accepts, checked after DNS resolution.
import http from "node:http";
import https from "node:https";
import {
  OutboundPolicyError,
  OutboundRefusedError,
  PUBLIC_ONLY,
  outboundFor,
  type OutboundPolicy,
} from "./outbound.ts";
import { ProviderError } from "./types.ts";

export interface HttpCall {
  /** Provider name for error messages, e.g. "sms (twilio)". */
  provider: string;
  url: string;
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Values that must never appear in an error message or response summary (tokens, keys). */
  secrets?: readonly string[];
  /** Which private hosts may be reached (default: public addresses only). */
  outbound?: OutboundPolicy | undefined;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Body as text, cut at MAX_BODY_BYTES. */
  text: string;
  /** Body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

/** Answers are summarised, never stored whole: a provider cannot make us buffer megabytes. */
export const MAX_BODY_BYTES = 64 * 1024;
const SUMMARY_CHARS = 2_000;

/**
 * Performs one HTTP request. Resolves only for a 2xx answer; everything else becomes a
 * ProviderError: 5xx, 408, 429, network failures, timeouts and caller aborts are retryable,
 * other 4xx, redirects (never followed) and destinations the outbound policy refuses are not.
 */
export async function httpRequest(call: HttpCall): Promise<HttpAnswer> {
  const { provider } = call;
  const secrets = (call.secrets ?? []).filter((s) => s.length > 0);
  let url: URL;
  try {
    url = new URL(call.url);
  } catch {
    throw new ProviderError(`${provider}: invalid URL`, { retryable: false });
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password) {
    throw new ProviderError(`${provider}: URL must be http(s) without embedded credentials`, {
      retryable: false,
    });
  }

  const deadline = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([deadline, call.signal]) : deadline;
  const abortReason = (): ProviderError | undefined => {
    if (call.signal?.aborted)
      return new ProviderError(`${provider}: send aborted`, { retryable: true });
    if (deadline.aborted) {
      return new ProviderError(`${provider}: timed out after ${call.timeoutMs} ms`, {
        retryable: true,
      });
    }
    return undefined;
  };

  let res: Exchanged;
  try {
    res = await exchange(url, call, signal);
  } catch (err) {
    const refused = findInChain(
      err,
      (e) => e instanceof OutboundRefusedError || e instanceof OutboundPolicyError,
    );
    if (refused) throw new ProviderError(`${provider}: ${refused.message}`, { retryable: false });
    const aborted = abortReason();
    if (aborted) throw withCause(aborted, err);
    const code = networkErrorCode(err);
    if (code === "ERR_INVALID_CHAR" || code === "ERR_INVALID_HTTP_TOKEN")
      throw new ProviderError(`${provider}: invalid request header (${code})`, {
        retryable: false,
        cause: err,
      });
    throw new ProviderError(`${provider}: network error${code ? ` (${code})` : ""}`, {
      retryable: true,
      cause: err,
    });
  }
  const { text } = res;

  const json = parseJson(res.headers.get("content-type"), text);
  if (res.status >= 200 && res.status < 300)
    return { status: res.status, headers: res.headers, text, json };

  const summary = redact(json !== undefined ? json : truncate(text), secrets);
  if (res.status >= 300 && res.status < 400) {
    throw new ProviderError(`${provider}: unexpected redirect (HTTP ${res.status})`, {
      retryable: false,
      status: res.status,
      response: summary,
    });
  }
  const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
  const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
  throw new ProviderError(`${provider}: HTTP ${res.status}${describe(json, secrets)}`, {
    retryable,
    status: res.status,
    response: summary,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** Basic-auth header value for user:password. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

interface Exchanged {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A kept-alive connection the server had closed, found when a request went out on it: the server
 * had closed it before the request arrived (idle connections are closed by servers after a few
 * seconds — Node's own after 5 — and the close can cross our reuse), so nothing was answered and
 * the request is sent again on another connection, as Node's documentation advises
 * (`request.reusedSocket`). A provider failing for any other reason is not retried here.
 */
class StaleConnection extends Error {
  constructor(readonly original: unknown) {
    super("kept-alive connection closed by the server");
  }
}
const STALE_CODES = new Set(["ECONNRESET", "EPIPE"]);
/** Tries of one request over stale kept-alive connections before the error is the caller's. */
const STALE_TRIES = 3;

async function exchange(url: URL, call: HttpCall, signal: AbortSignal): Promise<Exchanged> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await exchangeOnce(url, call, signal);
    } catch (err) {
      if (!(err instanceof StaleConnection)) throw err;
      if (attempt >= STALE_TRIES || signal.aborted) throw err.original;
    }
  }
}

/**
 * One request over node:http(s) through the policy's agents, whose socket lookup refuses private
 * addresses (an IP literal is checked before connecting). Redirects are answers like any other.
 */
function exchangeOnce(url: URL, call: HttpCall, signal: AbortSignal): Promise<Exchanged> {
  const agents = outboundFor(call.outbound ?? PUBLIC_ONLY, url.hostname);
  const secure = url.protocol === "https:";
  const body = call.body === undefined ? undefined : Buffer.from(call.body, "utf8");
  const headers: Record<string, string> = { "user-agent": "Postpath", ...call.headers };
  if (body !== undefined) headers["content-length"] = String(body.byteLength);
  return new Promise<Exchanged>((resolve, reject) => {
    const options: http.RequestOptions = {
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port === "" ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: call.method ?? "POST",
      headers,
      signal,
    };
    const req = secure
      ? https.request({ ...options, agent: agents.https }, onResponse)
      : http.request({ ...options, agent: agents.http }, onResponse);
    let answered = false;
    function onResponse(res: http.IncomingMessage) {
      answered = true;
      readBounded(res).then(
        (text) =>
          resolve({ status: res.statusCode ?? 0, headers: headersOf(res.rawHeaders), text }),
        reject,
      );
    }
    req.on("error", (err) => {
      const code = networkErrorCode(err);
      reject(
        req.reusedSocket && !answered && code !== undefined && STALE_CODES.has(code)
          ? new StaleConnection(err)
          : err,
      );
    });
    req.end(body);
  });
}

function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A header value fetch's Headers refuses is not one we read.
    }
  }
  return headers;
}

async function readBounded(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    const room = MAX_BODY_BYTES - size;
    chunks.push(chunk.byteLength > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.byteLength, room);
    if (size >= MAX_BODY_BYTES) break; // leaving the loop destroys the response
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(contentType: string | null, text: string): unknown {
  const looksJson = contentType?.includes("json") ?? false;
  const trimmed = text.trimStart();
  if (!looksJson && !trimmed.startsWith("{") && !trimmed.startsWith("[")) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function truncate(text: string): string {
  return text.length > SUMMARY_CHARS ? `${text.slice(0, SUMMARY_CHARS)}…` : text;
}

/** Replaces every occurrence of a secret inside strings of a JSON-safe value. */
export function redact<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const scrub = (v: unknown): unknown => {
    if (typeof v === "string")
      return secrets.reduce((s, secret) => s.split(secret).join("[redacted]"), v);
    if (Array.isArray(v)) return v.map(scrub);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x)]));
    }
    return v;
  };
  return scrub(value) as T;
}

/** ": <message>" from common JSON error shapes ({ message }, { error }, { error: { message } }). */
function describe(json: unknown, secrets: readonly string[]): string {
  if (json === null || typeof json !== "object") return "";
  const o = json as Record<string, unknown>;
  const nested =
    o.error !== null && typeof o.error === "object"
      ? (o.error as Record<string, unknown>)
      : undefined;
  const candidate = o.message ?? nested?.message ?? o.error;
  if (typeof candidate !== "string" || candidate.length === 0) return "";
  return `: ${redact(candidate.slice(0, 300), secrets)}`;
}

function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function networkErrorCode(err: unknown): string | undefined {
  // Only the code is reported: the error's message can contain the URL, which may be a secret.
  const found = findInChain(err, (e) => typeof (e as { code?: unknown }).code === "string");
  return found ? ((found as { code?: unknown }).code as string) : undefined;
}

function findInChain<T extends object>(err: unknown, test: (e: object) => e is T): T | undefined;
function findInChain(err: unknown, test: (e: object) => boolean): object | undefined;
function findInChain(err: unknown, test: (e: object) => boolean): object | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === "object" && depth < 4; depth++) {
    if (test(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function withCause(error: ProviderError, cause: unknown): ProviderError {
  return new ProviderError(error.message, { retryable: error.retryable, cause });
}

/** JSON-safe summary of a successful answer: status plus the (parsed or truncated) body. */
export function summarise(
  answer: HttpAnswer,
  secrets: readonly string[] = [],
): { status: number; body: unknown } {
  const body = answer.json !== undefined ? answer.json : truncate(answer.text);
  return {
    status: answer.status,
    body: redact(
      body,
      secrets.filter((s) => s.length > 0),
    ),
  };
}
