// issue 16: the Customers area — search (external id, email, phone prefix, attribute `key = value`;
// keyset-paged, on indexes: see Customer in schema.prisma), a profile (attributes, tags, consent per
// channel), the event timeline, every run with its trace in words and its rendered messages, and
// erasure (right to be forgotten) in one audited transaction.
import { createHash } from "node:crypto";
import { Prisma } from "@postpath/db";
import { CONSENT_CHANNELS, SOURCE_WORDS } from "@postpath/engine";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { adminProcedure, marketerProcedure, router, type ApiContext } from "../trpc.ts";
import { IdText, Text, unstorableText } from "../zod.ts";
import {
  channelWords,
  isMessageEvent,
  messageEventWords,
  RUN_STATUS_WORDS,
  stepNames,
  traceWords,
  untilOf,
  valueWords,
} from "./customers.words.ts";

export const SEARCH_KINDS = ["id", "email", "phone", "attribute"] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

const Cursor = Text.max(1000).optional();
const CustomerId = z.object({ id: IdText("customer id") });
/** Above every character: `value < prefix || MAX` bounds a prefix range on a btree index. */
const MAX_CHAR = String.fromCodePoint(0x10ffff);
const TRACES_PER_RUN = 200;
/**
 * How long an erasure waits for the statements storing events in flight (its lock on "EventKey"):
 * ingest queues behind the wait, so a long write there (the sweeper deleting keys) fails the
 * erasure, to be tried again, rather than holding ingest.
 */
const ERASE_LOCK_TIMEOUT = "2s";

function eraseLockTimeout(err: unknown): never {
  if (err instanceof Error && /lock timeout/i.test(err.message))
    throw new TRPCError({
      code: "TIMEOUT",
      message:
        "Events are being written or cleaned up right now; try the erasure again in a moment.",
      cause: err,
    });
  throw err;
}

/** How many times an erasure is tried when Postgres aborts it for a deadlock or conflict. */
const ERASE_ATTEMPTS = 4;

/**
 * A deadlock (40P01) or serialization failure (40001): Postgres rolled the transaction back and
 * running it again may well succeed. Prisma reports 40001 as P2034 and, from raw SQL, other codes
 * as P2010 with the driver's error in `meta`.
 */
function transientConflict(err: unknown): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (err.code === "P2034") return true;
  const driver = err.meta?.["driverAdapterError"] as { cause?: { code?: unknown } } | undefined;
  const code = driver?.cause?.code ?? /Code: `(\w+)`/.exec(err.message)?.[1];
  return code === "40P01" || code === "40001";
}

/**
 * Runs the transaction `fn` again after a transient conflict, a few times with a short
 * random pause; once they are used up, CONFLICT (the caller may try again) rather than a 500.
 * Erasure takes its locks in the engine's order (see `erase`), but a run commit updates its batch's
 * runs in the batch's order, so two runs of one customer can still be taken the other way round.
 */
async function transactionRetried<T>(
  prisma: ApiContext["db"]["prisma"],
  fn: (tx: Prisma.TransactionClient) => Promise<T>,
  options: { timeout: number },
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await prisma.$transaction(fn, options);
    } catch (err) {
      if (!transientConflict(err)) throw err;
      if (n >= ERASE_ATTEMPTS)
        throw new TRPCError({
          code: "CONFLICT",
          message:
            "The customer's journeys were being updated at the same moment; try the erasure again.",
          cause: err,
        });
      await new Promise((r) => setTimeout(r, 20 * n + Math.random() * 50));
    }
  }
}

/** Which kind of search a query looks like when the caller did not say. */
export function guessSearchKind(query: string): SearchKind {
  if (query.includes("=")) return "attribute";
  if (query.includes("@")) return "email";
  if (/^\+?[\d\s().-]{3,}$/.test(query)) return "phone";
  return "id";
}

function badRequest(field: string, message: string): TRPCError {
  return new TRPCError({
    code: "BAD_REQUEST",
    message,
    cause: new z.ZodError([{ code: "custom", path: [field], message, input: undefined }]),
  });
}

function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

/** A cursor this router made: `size` strings (the first a date when `dated`), else BAD_REQUEST. */
function decodeCursor(cursor: string | undefined, size: number, dated = false): string[] | null {
  if (cursor === undefined) return null;
  try {
    const parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (
      Array.isArray(parts) &&
      parts.length === size &&
      parts.every((p): p is string => typeof p === "string" && !unstorableText(p)) &&
      (!dated || !Number.isNaN(Date.parse(parts[0] ?? "")))
    )
      return parts;
  } catch {
    // answered below
  }
  throw badRequest("cursor", "This page link is not valid any more; search again.");
}

/** Marks the cursor of a guessed search that found no id and went on to emails. */
const EMAIL_FALLBACK = "email-fallback";

/** The email cursor inside a fallback search's cursor, else null (an id search's own cursor). */
function emailFallbackCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  try {
    const parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(parts) && parts.length === 3 && parts[2] === EMAIL_FALLBACK)
      return encodeCursor(parts.slice(0, 2) as string[]);
  } catch {
    // not ours: decodeCursor answers it
  }
  return null;
}

/** `plan = basic` → the JSON values an attribute may hold for it (string, and number/boolean). */
export function attributeCandidates(query: string): { key: string; values: unknown[] } {
  const at = query.indexOf("=");
  const key = at < 0 ? "" : query.slice(0, at).trim();
  const raw = query.slice(at + 1).trim();
  if (!key)
    throw badRequest("query", "Write an attribute search as “name = value”, e.g. plan = gold.");
  const quoted = /^"(.*)"$/.exec(raw);
  if (quoted) return { key, values: [quoted[1]] };
  const values: unknown[] = [raw];
  if (/^-?\d+(\.\d+)?$/.test(raw)) values.push(Number(raw));
  else if (raw === "true" || raw === "false") values.push(raw === "true");
  return { key, values };
}

type Row = {
  id: string;
  externalId: string;
  email: string | null;
  phone: string | null;
  attributes: Record<string, unknown>;
  updatedAt: Date;
};

function displayName(attributes: Record<string, unknown>): string | null {
  const s = (k: string) => (typeof attributes[k] === "string" ? attributes[k] : "");
  const full = [s("first_name") || s("firstName"), s("last_name") || s("lastName")]
    .filter(Boolean)
    .join(" ");
  return full || s("name") || null;
}

const COLUMN: Record<Exclude<SearchKind, "attribute">, string> = {
  id: `"externalId"`,
  email: "email",
  phone: "phone",
};

async function searchCustomers(
  ctx: ApiContext,
  workspaceId: string,
  input: { query: string; by: SearchKind; cursor?: string; limit: number },
): Promise<{ rows: Row[]; cursorOf: (r: Row) => string[] }> {
  const select = `SELECT id, "externalId", email, phone, attributes, "updatedAt" FROM "Customer"`;
  if (input.by === "attribute") {
    const { key, values } = attributeCandidates(input.query);
    const after = decodeCursor(input.cursor, 1)?.[0] ?? null;
    // One containment test per typed value (`plan = 3` matches "3" and 3): each is a GIN lookup.
    const tests = values.map((_, i) => `attributes @> $${i + 4}::jsonb`).join(" OR ");
    const rows = await ctx.db.query<Row>(
      `${select} WHERE "workspaceId" = $1 AND ($2::text IS NULL OR id > $2) AND (${tests})
       ORDER BY id LIMIT $3`,
      [workspaceId, after, input.limit + 1, ...values.map((v) => JSON.stringify({ [key]: v }))],
    );
    return { rows, cursorOf: (r) => [r.id] };
  }
  const col = COLUMN[input.by];
  const prefix = input.query;
  const after = decodeCursor(input.cursor, 2);
  // A prefix as an index range, rechecked with starts_with (exact whatever the collation).
  const rows = await ctx.db.query<Row>(
    `${select} WHERE "workspaceId" = $1 AND ${col} >= $2 AND ${col} < $3 AND starts_with(${col}, $2)
       AND ($4::text IS NULL OR (${col}, id) > ($4, $5::text))
     ORDER BY ${col}, id LIMIT $6`,
    [workspaceId, prefix, prefix + MAX_CHAR, after?.[0] ?? null, after?.[1] ?? "", input.limit + 1],
  );
  const valueOf = (r: Row) =>
    (input.by === "id" ? r.externalId : input.by === "email" ? r.email : r.phone) ?? "";
  return { rows, cursorOf: (r) => [valueOf(r), r.id] };
}

async function customerIn(ctx: ApiContext, workspaceId: string, id: string) {
  const c = await ctx.db.prisma.customer.findFirst({
    where: { id, workspaceId },
    select: {
      id: true,
      externalId: true,
      email: true,
      phone: true,
      timezone: true,
      attributes: true,
      tags: true,
      createdAt: true,
      updatedAt: true,
    },
  });
  // Another workspace's customer is "not found": ids leak nothing.
  if (!c)
    throw new TRPCError({
      code: "NOT_FOUND",
      message: "No customer with that id in this workspace (erased, or never seen).",
    });
  return c;
}

const MESSAGE_STATUS_WORDS: Record<string, string> = {
  PENDING: "Queued",
  SENDING: "Sending",
  SENT: "Sent",
  FAILED: "Failed",
  DEAD: "Failed for good",
  SKIPPED: "Not sent",
  UNCERTAIN: "Maybe sent (interrupted)",
};

const CONSENT_LABEL: Record<string, string> = { email: "Email", sms: "SMS", push: "Push" };

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

export const customersRouter = router({
  /** Customers by external id, email or phone (prefix), or attribute `key = value`; keyset pages. */
  search: marketerProcedure
    .input(
      z.object({
        query: Text.trim()
          .min(1, "Type an id, email, phone number or “attribute = value”")
          .max(500, "Keep the search under 500 characters"),
        by: z.enum(SEARCH_KINDS).optional(),
        cursor: Cursor,
        limit: z.number().int().min(1).max(100).default(25),
      }),
    )
    .query(async ({ ctx, input }) => {
      let by = input.by ?? guessSearchKind(input.query);
      // "Anything" with a plain word ("ada") looked up customer ids only and found no one while
      // ada@example.com was there (walk 2026-12-05): when no id starts with it, emails are
      // searched. Pages of that fallback carry EMAIL_FALLBACK in their cursor.
      const fallback = input.by === undefined && by === "id";
      let cursor = input.cursor;
      const fromEmail = fallback ? emailFallbackCursor(cursor) : null;
      if (fromEmail) [by, cursor] = ["email", fromEmail];
      const search = (kind: SearchKind) =>
        searchCustomers(ctx, ctx.user.workspaceId, {
          ...input,
          ...(cursor === undefined ? {} : { cursor }),
          by: kind,
        });
      let { rows, cursorOf } = await search(by);
      if (fallback && by === "id" && cursor === undefined && rows.length === 0) {
        const byEmail = await search("email");
        if (byEmail.rows.length > 0) [by, { rows, cursorOf }] = ["email", byEmail];
      }
      const page = rows.slice(0, input.limit);
      const last = page.at(-1);
      const cursorParts = (r: Row) =>
        fallback && by === "email" ? [...cursorOf(r), EMAIL_FALLBACK] : cursorOf(r);
      return {
        by,
        items: page.map((r) => ({
          id: r.id,
          externalId: r.externalId,
          name: displayName(r.attributes),
          email: r.email,
          phone: r.phone,
          updatedAt: r.updatedAt.toISOString(),
        })),
        nextCursor: rows.length > input.limit && last ? encodeCursor(cursorParts(last)) : null,
      };
    }),

  /** The profile: columns, attributes as name/value lines, tags, consent per channel. */
  get: marketerProcedure.input(CustomerId).query(async ({ ctx, input }) => {
    const c = await customerIn(ctx, ctx.user.workspaceId, input.id);
    const [subscriptions, events, runs] = await Promise.all([
      ctx.db.prisma.subscription.findMany({
        where: { customerId: c.id, workspaceId: ctx.user.workspaceId },
        select: { channel: true, status: true, source: true, changedAt: true },
      }),
      ctx.db.prisma.event.count({ where: { workspaceId: ctx.user.workspaceId, customerId: c.id } }),
      ctx.db.prisma.journeyRun.count({ where: { customerId: c.id } }),
    ]);
    const attributes = c.attributes as Record<string, unknown>;
    const byChannel = new Map(subscriptions.map((s) => [s.channel, s]));
    return {
      id: c.id,
      externalId: c.externalId,
      name: displayName(attributes),
      email: c.email,
      phone: c.phone,
      timezone: c.timezone,
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
      attributes: Object.keys(attributes)
        .sort((a, b) => a.localeCompare(b))
        .map((key) => ({ key, value: valueWords(attributes[key]) })),
      tags: c.tags,
      consent: CONSENT_CHANNELS.map((channel) => {
        const s = byChannel.get(channel);
        return {
          channel,
          label: CONSENT_LABEL[channel] ?? channel,
          status: (s?.status ?? "never asked") as "subscribed" | "unsubscribed" | "never asked",
          source: s
            ? ((SOURCE_WORDS as Record<string, string | undefined>)[s.source] ?? s.source)
            : null,
          changedAt: s?.changedAt.toISOString() ?? null,
        };
      }),
      counts: { events, runs },
    };
  }),

  /** The customer's events, newest first, keyset-paged on (timestamp, id). */
  timeline: marketerProcedure
    .input(
      CustomerId.extend({ cursor: Cursor, limit: z.number().int().min(1).max(100).default(50) }),
    )
    .query(async ({ ctx, input }) => {
      const c = await customerIn(ctx, ctx.user.workspaceId, input.id);
      const after = decodeCursor(input.cursor, 2, true);
      const rows = await ctx.db.query<{
        id: string;
        name: string;
        properties: Record<string, unknown>;
        timestamp: Date;
      }>(
        `SELECT id, name, properties, timestamp FROM "Event"
         WHERE "workspaceId" = $1 AND "customerId" = $2
           AND ($3::timestamptz IS NULL OR (timestamp, id) < ($3::timestamptz, $4::text))
         ORDER BY timestamp DESC, id DESC LIMIT $5`,
        [ctx.user.workspaceId, c.id, after?.[0] ?? null, after?.[1] ?? "", input.limit + 1],
      );
      const page = rows.slice(0, input.limit);
      const last = page.at(-1);
      // Events Postpath records itself about a message (`email_sent`…) are said in words with the
      // journey and step that sent it, named as drawn on the canvas (as `runs` does); their ids
      // are not shown. Events the customer's systems sent keep their name and properties.
      const messageIds = [
        ...new Set(
          page
            .filter((e) => isMessageEvent(e.name, e.properties))
            .map((e) => e.properties["message_id"] as string),
        ),
      ];
      const sent = messageIds.length
        ? await ctx.db.query<{
            id: string;
            stepId: string;
            journeyName: string | null;
            plan: unknown;
            document: unknown;
          }>(
            `SELECT m.id, m."stepId", j.name AS "journeyName", v.plan, v.document
             FROM "Message" m
             JOIN "JourneyRun" r ON r.id = m."runId"
             LEFT JOIN "JourneyVersion" v ON v.id = r."versionId"
             LEFT JOIN "Journey" j ON j.id = r."journeyId"
             WHERE m.id = ANY($1::text[]) AND m."workspaceId" = $2`,
            [messageIds, ctx.user.workspaceId],
          )
        : [];
      const sentBy = new Map(
        sent.map((m) => [
          m.id,
          {
            journey: m.journeyName,
            step: m.plan ? (stepNames(m.plan, m.document).get(m.stepId) ?? null) : null,
          },
        ]),
      );
      const HIDDEN = new Set(["message_id", "journey_id", "step_id"]);
      return {
        items: page.map((e) => {
          const internal = isMessageEvent(e.name, e.properties);
          const by = internal ? sentBy.get(e.properties["message_id"] as string) : undefined;
          return {
            id: e.id,
            name: internal
              ? messageEventWords(e.name, by?.journey ?? null, by?.step ?? null)
              : e.name,
            timestamp: e.timestamp.toISOString(),
            properties: Object.entries(e.properties ?? {})
              .filter(([key]) => !internal || !HIDDEN.has(key))
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([key, v]) => ({
                key,
                value: valueWords(v),
              })),
          };
        }),
        nextCursor:
          rows.length > input.limit && last
            ? encodeCursor([last.timestamp.toISOString(), last.id])
            : null,
      };
    }),

  /** Every run of the customer, newest first (keyset pages), with its trace in words. */
  runs: marketerProcedure
    .input(
      CustomerId.extend({ cursor: Cursor, limit: z.number().int().min(1).max(50).default(20) }),
    )
    .query(async ({ ctx, input }) => {
      const c = await customerIn(ctx, ctx.user.workspaceId, input.id);
      const after = decodeCursor(input.cursor, 2, true);
      const runs = await ctx.db.query<{
        id: string;
        journeyId: string;
        versionId: string;
        status: string;
        currentStepId: string | null;
        startedAt: Date;
        endedAt: Date | null;
      }>(
        `SELECT id, "journeyId", "versionId", status, "currentStepId", "startedAt", "endedAt"
         FROM "JourneyRun"
         WHERE "customerId" = $1 AND "workspaceId" = $2
           AND ($3::timestamptz IS NULL OR ("startedAt", id) < ($3::timestamptz, $4::text))
         ORDER BY "startedAt" DESC, id DESC LIMIT $5`,
        [c.id, ctx.user.workspaceId, after?.[0] ?? null, after?.[1] ?? "", input.limit + 1],
      );
      const page = runs.slice(0, input.limit);
      const runIds = page.map((r) => r.id);
      const [versions, traces, messages] = await Promise.all([
        ctx.db.prisma.journeyVersion.findMany({
          where: { id: { in: [...new Set(page.map((r) => r.versionId))] } },
          select: {
            id: true,
            version: true,
            plan: true,
            document: true,
            journey: { select: { name: true } },
          },
        }),
        ctx.db.query<{
          runId: string;
          id: string;
          stepId: string | null;
          kind: string;
          detail: unknown;
          at: Date;
        }>(
          `SELECT t."runId", t.id::text AS id, t."stepId", t.kind, t.detail, t.at
           FROM unnest($1::text[]) AS r(id)
           CROSS JOIN LATERAL (SELECT * FROM "RunTrace" WHERE "runId" = r.id ORDER BY id LIMIT $2) t
           ORDER BY t."runId", t.id`,
          [runIds, TRACES_PER_RUN],
        ),
        ctx.db.prisma.message.findMany({
          where: { runId: { in: runIds } },
          orderBy: { createdAt: "asc" },
          select: {
            id: true,
            runId: true,
            stepId: true,
            channel: true,
            status: true,
            recipient: true,
            createdAt: true,
            sentAt: true,
          },
        }),
      ]);
      const versionOf = new Map(versions.map((v) => [v.id, v]));
      const namesOf = new Map(versions.map((v) => [v.id, stepNames(v.plan, v.document)]));
      const last = page.at(-1);
      return {
        items: page.map((r) => {
          const v = versionOf.get(r.versionId);
          const names = namesOf.get(r.versionId) ?? new Map<string, string>();
          const nameOf = (id: string | null) => (id ? (names.get(id) ?? null) : null);
          return {
            id: r.id,
            journeyId: r.journeyId,
            journeyName: v?.journey.name ?? "A deleted journey",
            versionNumber: v?.version ?? null,
            status: r.status,
            statusWords: RUN_STATUS_WORDS[r.status] ?? r.status,
            currentStep: nameOf(r.currentStepId),
            startedAt: r.startedAt.toISOString(),
            endedAt: r.endedAt?.toISOString() ?? null,
            trace: traces
              .filter((t) => t.runId === r.id)
              .map((t) => {
                const d = (t.detail ?? {}) as Record<string, unknown>;
                return {
                  id: t.id,
                  at: t.at.toISOString(),
                  stepName: nameOf(t.stepId),
                  text: traceWords(t.kind, d, nameOf(t.stepId), nameOf),
                  /** When a wait or hold ends (ISO; the web app shows it in local time). */
                  until: untilOf(d),
                  messageId: typeof d.messageId === "string" ? d.messageId : null,
                };
              }),
            messages: messages
              .filter((m) => m.runId === r.id)
              .map((m) => ({
                id: m.id,
                stepName: nameOf(m.stepId),
                channel: m.channel,
                channelWords: channelWords(m.channel),
                status: m.status,
                statusWords: MESSAGE_STATUS_WORDS[m.status] ?? m.status,
                recipient: m.recipient,
                createdAt: m.createdAt.toISOString(),
                sentAt: m.sentAt?.toISOString() ?? null,
              })),
          };
        }),
        nextCursor:
          runs.length > input.limit && last
            ? encodeCursor([last.startedAt.toISOString(), last.id])
            : null,
      };
    }),

  /** A message as rendered for the customer (subject, text, HTML, SMS body, push title/body). */
  message: marketerProcedure.input(CustomerId).query(async ({ ctx, input }) => {
    const m = await ctx.db.prisma.message.findFirst({
      where: { id: input.id, workspaceId: ctx.user.workspaceId },
      select: {
        id: true,
        channel: true,
        status: true,
        recipient: true,
        payload: true,
        error: true,
        createdAt: true,
        sentAt: true,
      },
    });
    if (!m) throw new TRPCError({ code: "NOT_FOUND", message: "No message with that id here." });
    const p = (m.payload ?? {}) as Record<string, unknown>;
    const s = (k: string) => (typeof p[k] === "string" ? p[k] : null);
    const known = ["subject", "text", "html", "body", "title", "preheader", "fromName", "to"];
    const other = Object.entries(p).filter(([k]) => !known.includes(k));
    return {
      id: m.id,
      channel: m.channel,
      channelWords: channelWords(m.channel),
      status: m.status,
      statusWords: MESSAGE_STATUS_WORDS[m.status] ?? m.status,
      recipient: m.recipient,
      error: m.error,
      createdAt: m.createdAt.toISOString(),
      sentAt: m.sentAt?.toISOString() ?? null,
      subject: s("subject"),
      title: s("title"),
      text: s("text") ?? s("body"),
      html: s("html"),
      fromName: s("fromName"),
      details: other.map(([key, v]) => ({ key, value: valueWords(v) })),
    };
  }),

  /**
   * Right to erasure (admins): in one transaction the customer's runs, traces, messages, personal
   * links, page visits, forms started and submitted, subscriptions and their history, refused entries,
   * segment memberships, identify calls and events are deleted with the customer, and an audit row
   * says who did it (with counts; the external id only as a hash). A later event with the same
   * external id starts a fresh profile. The suppression list (bounced/complained addresses) is
   * kept: it exists so that an address is never mailed again.
   */
  erase: adminProcedure
    .input(CustomerId.extend({ confirmExternalId: Text.max(255) }))
    .mutation(async ({ ctx, input }) => {
      const workspaceId = ctx.user.workspaceId;
      const erased = transactionRetried(
        ctx.db.prisma,
        async (tx) => {
          // "Event" has no foreign key to "Customer" (issue 15): an ingest statement that read this
          // customer before we commit would store its events under the erased id after our delete.
          // Every statement storing events inserts their keys, so it holds ROW EXCLUSIVE on
          // "EventKey" from its start: this lock waits for those in flight to commit (their events
          // are then deleted below) and holds new ones until we commit (they find no customer and
          // make a fresh one). Ingest pauses meanwhile, at most the lock timeout plus this
          // transaction; self-exclusive, so two erasures never deadlock on it.
          await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${ERASE_LOCK_TIMEOUT}'`);
          await tx.$executeRaw`LOCK TABLE "EventKey" IN SHARE ROW EXCLUSIVE MODE`;
          await tx.$executeRawUnsafe(`SET LOCAL lock_timeout TO DEFAULT`);
          // LOCK ORDER (issue 15): the customer's runs, then the customer — the order the engine's
          // run commit takes them in (store.ts commitBatch: its runs in `upd`, then their customers
          // in `customer_locks`; a move does the same). Taken the other way round, an erasure
          // holding the customer and a commit holding one of their runs waited for each other
          // until Postgres aborted one of them (40P01; test issue-015-erase-lock-order).
          // A transition in flight (its run row locked, its messages and traces inserted in the
          // same statement) commits before this read returns, and no later one can write for these
          // runs (it waits for our commit, then finds them gone). Each delete below then sees every
          // message and trace written for them. The foreign key from "Message" to "JourneyRun" used
          // to cascade to messages committed meanwhile; there is none since issue 15
          // (20261206040000_message_no_foreign_keys), nor from "RunTrace".
          await tx.$queryRaw`SELECT 1 FROM "JourneyRun"
            WHERE "customerId" = ${input.id} AND "workspaceId" = ${workspaceId} ORDER BY id FOR UPDATE`;
          // Locks the row: a concurrent identify merges before, or creates a fresh one after.
          const found = await tx.$queryRaw<{ id: string; externalId: string }[]>`
            SELECT id, "externalId" FROM "Customer"
            WHERE id = ${input.id} AND "workspaceId" = ${workspaceId} FOR UPDATE`;
          const c = found[0];
          if (!c)
            throw new TRPCError({
              code: "NOT_FOUND",
              message: "No customer with that id in this workspace (erased already?).",
            });
          if (c.externalId !== input.confirmExternalId)
            throw badRequest(
              "confirmExternalId",
              "Type the customer's id exactly as shown to confirm the erasure.",
            );
          const id = c.id;
          const counts: Record<string, number> = {};
          const run = async (name: string, q: Promise<number>) => {
            counts[name] = await q;
          };
          // Children first; runs by customer (no foreign keys: see JourneyRun).
          await run(
            "traces",
            tx.$executeRaw`DELETE FROM "RunTrace" WHERE "runId" IN
              (SELECT id FROM "JourneyRun" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId})`,
          );
          // issue 15: with their idempotency keys (MessageKey, one per message), in one statement.
          await run(
            "messages",
            tx.$executeRaw`WITH gone AS (
                DELETE FROM "Message" WHERE "workspaceId" = ${workspaceId} AND ("customerId" = ${id}
                  OR "runId" IN (SELECT id FROM "JourneyRun" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}))
                RETURNING "idempotencyKey"
              ), keys AS (
                DELETE FROM "MessageKey" k USING gone g WHERE k."idempotencyKey" = g."idempotencyKey"
              )
              SELECT 1 FROM gone`,
          );
          await run(
            "runs",
            tx.$executeRaw`DELETE FROM "JourneyRun" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}`,
          );
          await run(
            "purls",
            tx.$executeRaw`DELETE FROM "Purl" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}`,
          );
          await run(
            "pageVisits",
            tx.$executeRaw`DELETE FROM "PageVisit" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}`,
          );
          await run(
            "formSubmissions",
            tx.$executeRaw`DELETE FROM "FormSubmission" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}`,
          );
          await run(
            "formStarts",
            tx.$executeRaw`DELETE FROM "FormStart" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}`,
          );
          await run(
            "subscriptions",
            tx.$executeRaw`DELETE FROM "Subscription" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}`,
          );
          await run(
            "subscriptionChanges",
            tx.$executeRaw`DELETE FROM "SubscriptionChange" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}`,
          );
          await run(
            "refusedEntries",
            tx.$executeRaw`DELETE FROM "EntrySkip" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}`,
          );
          await run(
            "segmentMemberships",
            tx.$executeRaw`DELETE FROM "SegmentMember" WHERE "customerId" = ${id}`,
          );
          // issue 15: journey steps' segment checks not yet done (ids only; not counted).
          await tx.$executeRaw`DELETE FROM "PendingCheck" WHERE "customerId" = ${id}`;
          // And identify calls' (issue 15: "IdentifyCheck", their outbox; ids only, not counted).
          await tx.$executeRaw`DELETE FROM "IdentifyCheck" WHERE "customerId" = ${id}`;
          await run(
            "identifyCalls",
            tx.$executeRaw`DELETE FROM "IdentifyCall" WHERE "workspaceId" = ${workspaceId} AND "externalId" = ${c.externalId}`,
          );
          // The events' de-duplication keys go with them (issue 15: "EventKey").
          await tx.$executeRaw`DELETE FROM "EventKey" k USING "Event" e
            WHERE e."customerId" = ${id} AND e."workspaceId" = ${workspaceId}
              AND k."workspaceId" = e."workspaceId" AND k."messageId" = e."messageId" AND k."eventId" = e.id`;
          await run(
            "events",
            tx.$executeRaw`DELETE FROM "Event" WHERE "customerId" = ${id} AND "workspaceId" = ${workspaceId}`,
          );
          await run("customer", tx.$executeRaw`DELETE FROM "Customer" WHERE id = ${id}`);
          await recordAudit(
            { prisma: tx },
            ctx.user,
            "customer.erase",
            { type: "Customer", id },
            { externalIdSha256: sha256(`${workspaceId}:${c.externalId}`), ...counts },
          );
          return { erased: true as const, counts };
        },
        { timeout: 60_000 },
      );
      return erased.catch(eraseLockTimeout);
    }),
});
