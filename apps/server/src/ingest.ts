// Segment-compatible HTTP Tracking API: POST /v1/track, /v1/identify, /v1/page, /v1/batch.
// Auth is Segment's: HTTP Basic with the write key (an API key) as user name, password empty.
// Limits: 32 KB per call, 500 KB per batch (Segment's) → 413; a per-key request rate kept in
// Redis (so it holds across server processes; counted in leases) → 429 with Retry-After. Replayed messageIds are
// stored once (the Event and IdentifyCall unique constraints) and answered `duplicate: true`.
// Nothing a client sends answers 5xx: every call and batch item goes through the engine's
// sanitizeJson (lone surrogates and NUL → U+FFFD; too deep or an infinite number → 400 naming
// the field) before its schema, and in a batch each item stands alone — the good ones are
// stored, the bad ones listed in the answer (see README, "Admin, credentials and ingest").
import { createHash } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import { onApiKeyRevoked } from "@postpath/api";
import {
  identify,
  identifyMany,
  isUnstorableInput,
  sanitizeJson,
  storeTracks,
  type CheckedTrack,
  type EngineContext,
  type IdentifyInput,
} from "@postpath/engine";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Cluster, Redis } from "ioredis";
import { z } from "zod";
import type { AppOptions } from "./app.ts";
import { outageOf, sendUnavailable } from "./health.ts";
import { leasedRedisStore } from "./rate-limit-lease.ts";

export const SINGLE_LIMIT_BYTES = 32 * 1024;
export const BATCH_LIMIT_BYTES = 500 * 1024;
export const BATCH_MAX_ITEMS = 2500;
/** How long a looked-up write key (or its absence) is trusted without asking the database again. */
export const KEY_CACHE_MS = 1000;

/** Segment's write-key auth; also `Bearer <key>` and a `writeKey` body field (Segment's browser fallback). */
function writeKeyFrom(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (h?.startsWith("Basic ")) {
    const decoded = Buffer.from(h.slice(6), "base64").toString("utf8");
    const key = decoded.split(":")[0];
    return key || null;
  }
  if (h?.startsWith("Bearer ")) return h.slice(7) || null;
  const body = req.body as { writeKey?: unknown } | undefined;
  return typeof body?.writeKey === "string" ? body.writeKey : null;
}

const Json = z.record(z.string(), z.unknown());
const Timestamp = z.iso.datetime({ offset: true, message: "expected an ISO-8601 date-time" });
const Id = z.string().min(1).max(255);
/** Segment lets a call name the user by userId or anonymousId (at least one). */
const Common = {
  userId: z.union([Id, z.number().transform(String)]).optional(),
  anonymousId: z.union([Id, z.number().transform(String)]).optional(),
  timestamp: Timestamp.optional(),
  messageId: Id.optional(),
  context: Json.optional(),
};
const needsUser = (v: unknown) =>
  typeof v === "object" &&
  v !== null &&
  (("userId" in v && v.userId !== undefined) ||
    ("anonymousId" in v && v.anonymousId !== undefined));
// `when`: report a missing user alongside other field errors, not only once everything else is valid.
const userMessage = {
  message: "userId or anonymousId is required",
  path: ["userId"],
  when: () => true,
};

export const SegmentTrack = z
  .object({
    ...Common,
    event: z.string().min(1, "event is required").max(200),
    properties: Json.default({}),
  })
  .refine(needsUser, userMessage);
export const SegmentIdentify = z
  .object({ ...Common, traits: Json.default({}) })
  .refine(needsUser, userMessage);
export const SegmentPage = z
  .object({
    ...Common,
    name: z.string().max(200).optional(),
    category: z.string().max(200).optional(),
    properties: Json.default({}),
  })
  .refine(needsUser, userMessage);

const BatchItem = z.discriminatedUnion("type", [
  SegmentTrack.safeExtend({ type: z.literal("track") }),
  SegmentIdentify.safeExtend({ type: z.literal("identify") }),
  SegmentPage.safeExtend({ type: z.literal("page") }),
  SegmentPage.safeExtend({ type: z.literal("screen") }),
  // Accepted and ignored (no customer model for them yet).
  z.object({ type: z.literal("group") }).loose(),
  z.object({ type: z.literal("alias") }).loose(),
]);
/** The batch envelope; its items are checked one by one (checkCall), so one cannot sink the rest. */
export const SegmentBatch = z.object({
  batch: z.array(z.unknown()).min(1, "batch is empty").max(BATCH_MAX_ITEMS),
  context: z.unknown().optional(), // not stored (each item's own context is what counts)
});

type Track = z.infer<typeof SegmentTrack>;
type Identify = z.infer<typeof SegmentIdentify>;
type Page = z.infer<typeof SegmentPage>;
type Item = z.infer<typeof BatchItem>;

const externalId = (v: { userId?: string | undefined; anonymousId?: string | undefined }) =>
  v.userId ?? `anon:${v.anonymousId ?? ""}`;

// The calls have passed checkCall (sanitizeJson, then the schemas above, whose bounds are the
// engine's TrackInput's), so they are stored as checked (storeTracks), not checked again.
function trackInput(v: Track): CheckedTrack {
  return {
    userId: externalId(v),
    event: v.event,
    properties: v.properties,
    timestamp: v.timestamp,
    messageId: v.messageId,
    context: v.context,
  };
}
async function doTrack(engine: EngineContext, ws: string, v: Track) {
  return (await storeTracks(engine, ws, [trackInput(v)]))[0]!;
}
function identifyInput(v: Identify): IdentifyInput {
  return {
    userId: externalId(v),
    traits: v.traits,
    timestamp: v.timestamp,
    messageId: v.messageId,
    context: v.context,
  };
}
async function doIdentify(engine: EngineContext, ws: string, v: Identify) {
  return identify(engine, ws, identifyInput(v));
}
/** A page (or screen) view is stored as the event "Page Viewed" ("Screen Viewed"), with name and category as properties. */
function pageInput(v: Page, event = "Page Viewed"): CheckedTrack {
  const properties = {
    ...v.properties,
    ...(v.name ? { name: v.name } : {}),
    ...(v.category ? { category: v.category } : {}),
  };
  return {
    userId: externalId(v),
    event,
    properties,
    timestamp: v.timestamp,
    messageId: v.messageId,
    context: v.context,
  };
}
async function doPage(engine: EngineContext, ws: string, v: Page, event = "Page Viewed") {
  return (await storeTracks(engine, ws, [pageInput(v, event)]))[0]!;
}

/** The event a batch item stores, or null for an item that is not an event (identify, group, alias). */
function eventOf(item: Item): CheckedTrack | null {
  switch (item.type) {
    case "track":
      return trackInput(item);
    case "page":
      return pageInput(item);
    case "screen":
      return pageInput(item, "Screen Viewed");
    case "identify":
    case "group":
    case "alias":
      return null;
  }
}

interface FieldError {
  field: string;
  message: string;
}

function fieldErrors(error: z.ZodError, prefix: readonly (string | number)[] = []): FieldError[] {
  return error.issues.map((i) => ({
    field: [...prefix, ...i.path].map(String).join(".") || "(body)",
    message: i.message,
  }));
}

/**
 * The one gate every call and batch item goes through: made storable (sanitizeJson, depth
 * counted from the call itself), then the call's schema. `prefix` names where the call sits
 * in the request (`batch.3`), for the field names in errors.
 */
function checkCall<S extends z.ZodType>(
  schema: S,
  body: unknown,
  prefix: readonly (string | number)[] = [],
): { ok: true; value: z.output<S> } | { ok: false; fields: FieldError[] } {
  const clean = sanitizeJson(body, { path: prefix, level: 1 });
  if (!clean.ok)
    return { ok: false, fields: [{ field: clean.refusal.field, message: clean.refusal.message }] };
  const parsed = schema.safeParse(clean.value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, fields: fieldErrors(parsed.error, prefix) };
}

/** What a client sees when the database refused a value the gate let through (never expected). */
const UNSTORABLE = "contains a value that cannot be stored";

/** Fastify's own 4xx errors for a body it cannot read, in words a client developer can act on. */
const CLIENT_ERROR_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: `Payload too large: at most ${SINGLE_LIMIT_BYTES / 1024} KB per call and ${BATCH_LIMIT_BYTES / 1024} KB per batch.`,
  FST_ERR_CTP_INVALID_MEDIA_TYPE:
    "Unsupported content type: send the call as JSON with the header Content-Type: application/json.",
  FST_ERR_CTP_EMPTY_JSON_BODY: "The body is empty: send the call as a JSON object.",
  FST_ERR_CTP_INVALID_JSON_BODY: "The body is not valid JSON: send the call as a JSON object.",
};

interface AuthedKey {
  id: string;
  workspaceId: string;
  rateLimitPerMinute: number;
}

/** The Redis connection BullMQ uses, duplicated for the limiter (so its Lua command lives on its own client). */
export function limiterRedis(engine: EngineContext): { redis: Redis; prefix: string } {
  const opts = engine.queues.events.opts;
  const conn = opts.connection as unknown;
  // `instanceof` on the generic class narrows to Redis<any>; name the reply mode we use.
  // issue 15: a Redis Cluster duplicates too (the limiters' commands each touch one key).
  const redis: Redis =
    conn instanceof Redis || conn instanceof Cluster
      ? (conn as Redis).duplicate().on("error", () => undefined) // outages: see health.ts
      : new Redis({ ...(conn as object), lazyConnect: false });
  return { redis, prefix: opts.prefix ?? "bull" };
}

export function registerIngest(app: FastifyInstance, opts: AppOptions): void {
  const { db, engine } = opts;
  const keys = new WeakMap<FastifyRequest, AuthedKey>();
  const touched = new Map<string, number>();
  // Write keys looked up in the last second (issue 15: one query per request was a tenth of a
  // single track's cost); a revoked key stops working within KEY_CACHE_MS.
  const keyCache = new Map<
    string,
    {
      key: {
        id: string;
        workspaceId: string;
        revokedAt: Date | null;
        rateLimitPerMinute: number;
      } | null;
      at: number;
    }
  >();

  // A key revoked in this process is refused from the next request (other server processes
  // refuse it once their cached lookup is older than KEY_CACHE_MS).
  const stopListening = onApiKeyRevoked((apiKeyId) => {
    for (const [hash, entry] of keyCache) if (entry.key?.id === apiKeyId) keyCache.delete(hash);
  });
  app.addHook("onClose", (_app, done) => {
    stopListening();
    done();
  });

  // Malformed JSON, too-large bodies and limits never reach a handler: a clear 4xx, nothing stored.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    // Postgres or Redis down (issue 13): 503 + Retry-After, which Segment's clients retry.
    const down = outageOf(opts.monitor, err);
    if (down) return sendUnavailable(reply, down);
    const status = err.statusCode ?? 500;
    if (status >= 500) opts.log.error({ err: err.message }, "request failed");
    const message =
      status >= 500 ? "Internal error" : (CLIENT_ERROR_MESSAGES[err.code ?? ""] ?? err.message);
    return reply.code(status).send({ error: message });
  });

  async function authenticate(req: FastifyRequest, reply: FastifyReply) {
    const key = writeKeyFrom(req);
    if (!key)
      return reply
        .code(401)
        .send({ error: "Missing write key: send it as the Basic auth user name." });
    const keyHash = createHash("sha256").update(key).digest("hex");
    const cached = keyCache.get(keyHash);
    const now = Date.now();
    const apiKey =
      cached && cached.at > now - KEY_CACHE_MS
        ? cached.key
        : await db.prisma.apiKey.findUnique({
            where: { keyHash },
            select: { id: true, workspaceId: true, revokedAt: true, rateLimitPerMinute: true },
          });
    if (!cached || cached.at <= now - KEY_CACHE_MS) {
      if (keyCache.size >= 10_000) keyCache.clear();
      keyCache.set(keyHash, { key: apiKey, at: now });
    }
    if (!apiKey || apiKey.revokedAt)
      return reply.code(401).send({ error: "Unknown or revoked write key." });
    keys.set(req, apiKey);
    // lastUsedAt: at most one write per key per minute per process.
    if ((touched.get(apiKey.id) ?? 0) < now - 60_000) {
      touched.set(apiKey.id, now);
      await db.prisma.apiKey.update({
        where: { id: apiKey.id },
        data: { lastUsedAt: new Date(now) },
      });
    }
    return undefined;
  }

  const authed = (req: FastifyRequest): AuthedKey => {
    const k = keys.get(req);
    if (!k) throw new Error("ingest: request reached a handler without a write key");
    return k;
  };

  void app.register(async (scope) => {
    const { redis, prefix } = limiterRedis(engine);
    scope.addHook("onClose", (_instance, done) => {
      redis.disconnect();
      done();
    });
    await scope.register(rateLimit, {
      global: false,
      // Counted in Redis a lease at a time (rate-limit-lease.ts), not a round trip per request.
      store: leasedRedisStore(redis, `${prefix}:ingest-rate:`),
      skipOnError: true, // Redis down: let events in rather than drop them
    });
    // Plain JSON.parse instead of Fastify's secure parser: that one refuses the whole body for a
    // `__proto__` key anywhere, so one such item would cost a batch all its good ones. JSON.parse
    // makes such keys plain own properties; the gate (sanitizeJson) refuses just that item.
    scope.removeContentTypeParser("application/json");
    scope.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
      const text = body as string;
      if (text.trim() === "")
        return done(
          Object.assign(new Error(CLIENT_ERROR_MESSAGES.FST_ERR_CTP_EMPTY_JSON_BODY), {
            statusCode: 400,
          }),
        );
      try {
        done(null, JSON.parse(text) as unknown);
      } catch {
        done(
          Object.assign(new Error(CLIENT_ERROR_MESSAGES.FST_ERR_CTP_INVALID_JSON_BODY), {
            statusCode: 400,
          }),
        );
      }
    });
    scope.addHook("preValidation", authenticate);
    const limited = (bodyLimit: number) => ({
      bodyLimit,
      config: {
        rateLimit: {
          hook: "preHandler" as const,
          timeWindow: 60_000,
          keyGenerator: (req: FastifyRequest) => authed(req).id,
          max: (req: FastifyRequest) => authed(req).rateLimitPerMinute,
          errorResponseBuilder: (_req: FastifyRequest, c: { after: string; max: number }) =>
            Object.assign(
              new Error(
                `Rate limit exceeded: this write key may send ${c.max} requests per minute. Retry in ${c.after}.`,
              ),
              { statusCode: 429 },
            ),
        },
      },
    });

    /** Stores one checked call; a value the database still refuses answers 400, not 500. */
    async function single<S extends z.ZodType, R>(
      kind: string,
      schema: S,
      req: FastifyRequest,
      reply: FastifyReply,
      store: (ws: string, value: z.output<S>) => Promise<R>,
    ) {
      const checked = checkCall(schema, req.body);
      if (!checked.ok)
        return reply.code(400).send({ error: `Invalid ${kind} call`, fields: checked.fields });
      try {
        return reply.code(200).send({
          success: true,
          ...(await store(authed(req).workspaceId, checked.value)),
        });
      } catch (err) {
        if (!isUnstorableInput(err)) throw err;
        opts.log.warn(
          { err: (err as Error).message },
          `ingest: ${kind} call refused by the database`,
        );
        return reply.code(400).send({
          error: `Invalid ${kind} call`,
          fields: [{ field: "(body)", message: UNSTORABLE }],
        });
      }
    }

    scope.post("/v1/track", limited(SINGLE_LIMIT_BYTES), (req, reply) =>
      single("track", SegmentTrack, req, reply, async (ws, v) => {
        const res = await doTrack(engine, ws, v);
        return { eventId: res.eventId, duplicate: res.duplicate };
      }),
    );

    scope.post("/v1/identify", limited(SINGLE_LIMIT_BYTES), (req, reply) =>
      single("identify", SegmentIdentify, req, reply, async (ws, v) => {
        const res = await doIdentify(engine, ws, v);
        return { customerId: res.customerId, duplicate: res.duplicate };
      }),
    );

    scope.post("/v1/page", limited(SINGLE_LIMIT_BYTES), (req, reply) =>
      single("page", SegmentPage, req, reply, async (ws, v) => {
        const res = await doPage(engine, ws, v);
        return { eventId: res.eventId, duplicate: res.duplicate };
      }),
    );

    // Each item is checked on its own: the good ones are stored, the bad ones listed under
    // `refused` with the field and reason, and the answer is 200 — Segment's clients count a 2xx
    // as delivered and retry a 5xx whole, so a bad item must never cost the good ones. Only when
    // no item could be taken is the answer 400 (not retried). A retried batch is deduplicated on
    // messageId. Consecutive events (track, page, screen) are stored together, all or nothing,
    // through the engine's group commit (shared with concurrent requests); so are consecutive
    // identifies (their own group commit), stored in their place between events, so an identify
    // still precedes the events that follow it.
    scope.post("/v1/batch", limited(BATCH_LIMIT_BYTES), async (req, reply) => {
      const envelope = SegmentBatch.safeParse(req.body);
      if (!envelope.success)
        return reply
          .code(400)
          .send({ error: "Invalid batch", fields: fieldErrors(envelope.error) });
      const counts = { stored: 0, duplicate: 0, ignored: 0 };
      const refused: { index: number; messageId?: string; fields: FieldError[] }[] = [];
      const ws = authed(req).workspaceId;
      const refuseAt = (index: number, fields: FieldError[]) => {
        const messageId = (envelope.data.batch[index] as { messageId?: unknown } | null)?.messageId;
        refused.push({
          index,
          ...(typeof messageId === "string" ? { messageId } : {}),
          fields,
        });
      };
      const refuseUnstorable = (index: number, err: unknown) => {
        opts.log.warn(
          { err: (err as Error).message },
          "ingest: batch item refused by the database",
        );
        refuseAt(index, [{ field: `batch.${index}`, message: UNSTORABLE }]);
      };
      /** Stores calls together, all or nothing (index in the batch, the call). */
      const storeTogether = async <T>(
        items: { index: number; input: T }[],
        store: (inputs: T[]) => Promise<{ duplicate: boolean }[]>,
      ) => {
        if (items.length === 0) return;
        try {
          const res = await store(items.map((i) => i.input));
          for (const r of res) counts[r.duplicate ? "duplicate" : "stored"]++;
        } catch (err) {
          if (!isUnstorableInput(err)) throw err;
          // Some value the gate let through was refused: find which, one call at a time.
          for (const i of items)
            try {
              const [r] = await store([i.input]);
              counts[r!.duplicate ? "duplicate" : "stored"]++;
            } catch (e) {
              if (isUnstorableInput(e)) refuseUnstorable(i.index, e);
              else throw e;
            }
        }
      };
      /** The events, or the identifies, waiting to be stored together. */
      let run: { index: number; input: CheckedTrack }[] = [];
      let identifies: { index: number; input: IdentifyInput }[] = [];
      const storeRun = async () => {
        const items = run;
        run = [];
        await storeTogether(items, (inputs) => storeTracks(engine, ws, inputs));
        const calls = identifies;
        identifies = [];
        await storeTogether(calls, (inputs) => identifyMany(engine, ws, inputs));
      };
      for (const [index, raw] of envelope.data.batch.entries()) {
        const refuse = (fields: FieldError[]) => refuseAt(index, fields);
        const checked = checkCall(BatchItem, raw, ["batch", index]);
        if (!checked.ok) {
          refuse(checked.fields);
          continue;
        }
        if (Buffer.byteLength(JSON.stringify(checked.value)) > SINGLE_LIMIT_BYTES) {
          refuse([
            {
              field: `batch.${index}`,
              message: `is too large: at most ${SINGLE_LIMIT_BYTES / 1024} KB per item`,
            },
          ]);
          continue;
        }
        const input = eventOf(checked.value);
        if (input) {
          if (identifies.length) await storeRun();
          run.push({ index, input });
          continue;
        }
        if (checked.value.type === "identify") {
          if (run.length) await storeRun();
          identifies.push({ index, input: identifyInput(checked.value) });
          continue;
        }
        counts.ignored++; // group and alias: accepted, not stored
      }
      await storeRun();
      refused.sort((a, b) => a.index - b.index);
      if (refused.length === envelope.data.batch.length)
        return reply.code(400).send({
          error: "Invalid batch: no item could be accepted",
          fields: refused.flatMap((r) => r.fields),
          refused,
        });
      return reply.code(200).send({ success: true, ...counts, refused });
    });
  });
}
