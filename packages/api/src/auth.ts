import { createHash, randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import type { Database } from "@postpath/db";
import type { SessionUser } from "./trpc.ts";

export const SESSION_COOKIE = "pp_session";
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

/** argon2id (the @node-rs/argon2 default algorithm) with OWASP's minimum parameters. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function createSession(
  db: Database,
  userId: string,
  now = Date.now(),
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now + SESSION_TTL_MS);
  await db.prisma.session.create({ data: { userId, tokenHash: tokenHash(token), expiresAt } });
  return { token, expiresAt };
}

export async function userForSession(
  db: Database,
  token: string | null,
  now = Date.now(),
): Promise<SessionUser | null> {
  if (!token) return null;
  const session = await db.prisma.session.findUnique({
    where: { tokenHash: tokenHash(token) },
    select: {
      expiresAt: true,
      user: { select: { id: true, email: true, name: true, role: true, workspaceId: true } },
    },
  });
  if (!session || session.expiresAt.getTime() <= now) return null;
  return session.user;
}

// --- issue 15: the session lookup of every request, cached briefly in-process -------------------
// Every tRPC request read its session and user (two statements through Prisma). The server now
// looks a session up once per SESSION_CACHE_MS per process: a bounded LRU of token hash → user.
// Signing out, ending sessions, a role change and removing a user forget the entries at once in
// this process; another server process notices within SESSION_CACHE_MS (its entry expires).

/** How long a looked-up session is trusted without reading it again. */
export const SESSION_CACHE_MS = 5_000;
/** At most this many sessions are kept (least recently used go first). */
export const SESSION_CACHE_MAX = 10_000;

type CachedSession = {
  user: SessionUser | null;
  userId: string | null;
  /** The session's own expiry (ms); null when there is no such session. */
  expiresAt: number | null;
  /** Read again after this (ms). */
  until: number;
};
const sessionCache = new Map<string, CachedSession>();
/** Bumped by every forget: a lookup that started before it does not store what it read. */
let sessionEpoch = 0;

/** userForSession through the in-process cache (the HTTP server's per-request lookup). */
export async function cachedUserForSession(
  db: Database,
  token: string | null,
  now = Date.now(),
): Promise<SessionUser | null> {
  if (!token) return null;
  const key = tokenHash(token);
  const hit = sessionCache.get(key);
  if (hit && hit.until > now) {
    sessionCache.delete(key); // most recently used last
    sessionCache.set(key, hit);
    return hit.expiresAt !== null && hit.expiresAt > now ? hit.user : null;
  }
  const epoch = sessionEpoch;
  const session = await db.prisma.session.findUnique({
    where: { tokenHash: key },
    select: {
      expiresAt: true,
      user: { select: { id: true, email: true, name: true, role: true, workspaceId: true } },
    },
  });
  if (epoch === sessionEpoch) {
    sessionCache.delete(key);
    sessionCache.set(key, {
      user: session?.user ?? null,
      userId: session?.user.id ?? null,
      expiresAt: session?.expiresAt.getTime() ?? null,
      until: now + SESSION_CACHE_MS,
    });
    while (sessionCache.size > SESSION_CACHE_MAX) {
      const oldest = sessionCache.keys().next().value;
      if (oldest === undefined) break;
      sessionCache.delete(oldest);
    }
  }
  if (!session || session.expiresAt.getTime() <= now) return null;
  return session.user;
}

/** Forgets one session's cached lookup (sign-out). */
export function forgetSession(token: string): void {
  sessionEpoch++;
  sessionCache.delete(tokenHash(token));
}

/** Forgets every cached session of a user (role change, removal, password change or reset). */
export function forgetUserSessions(userId: string): void {
  sessionEpoch++;
  for (const [key, entry] of sessionCache) if (entry.userId === userId) sessionCache.delete(key);
}

/** Who in this process keeps write keys cached (the ingest routes); told when one is revoked. */
const apiKeyRevokedListeners = new Set<(apiKeyId: string) => void>();

/** Subscribes to revocations made in this process; returns the unsubscribe. */
export function onApiKeyRevoked(listener: (apiKeyId: string) => void): () => void {
  apiKeyRevokedListeners.add(listener);
  return () => apiKeyRevokedListeners.delete(listener);
}

/** A write key was revoked: this process's cached lookups of it are dropped at once. */
export function apiKeyRevoked(apiKeyId: string): void {
  for (const listener of apiKeyRevokedListeners) listener(apiKeyId);
}

export async function deleteSession(db: Database, token: string): Promise<void> {
  await db.prisma.session.deleteMany({ where: { tokenHash: tokenHash(token) } });
  forgetSession(token);
}

/** issue 12: signs a user out everywhere, or everywhere but the session holding `keepToken`. */
export async function endSessions(
  db: { prisma: Pick<Database["prisma"], "session"> },
  userId: string,
  keepToken?: string | null,
): Promise<number> {
  const res = await db.prisma.session.deleteMany({
    where: { userId, ...(keepToken ? { tokenHash: { not: tokenHash(keepToken) } } : {}) },
  });
  // Inside a transaction a lookup may still read the old rows until the commit: callers that pass
  // a transaction forget again after it (forgetUserSessions).
  forgetUserSessions(userId);
  return res.count;
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const [k, ...rest] = part.trim().split("=");
    if (k !== name) continue;
    try {
      return decodeURIComponent(rest.join("="));
    } catch {
      return null; // malformed %-encoding (issue 12): no session, not a 500
    }
  }
  return null;
}

// --- Sign-in throttling (Postgres, so it holds across server processes) ---------------------
// Each failed sign-in counts against the email and the client IP. From the 5th failure in a
// row, that key is locked for 1 s, doubling per further failure up to 15 min; counters forget
// after an hour without failures. Unknown emails count exactly like known ones.

export const THROTTLE_FREE_FAILURES = 4;
const THROTTLE_MAX_MS = 15 * 60_000;
const THROTTLE_FORGET_MS = 3600_000;

export function throttleKeys(email: string, ip: string | undefined): string[] {
  return [`email:${email.toLowerCase()}`, ...(ip ? [`ip:${ip}`] : [])];
}

/** Milliseconds until the caller may try again (0: now). */
export async function throttleWait(
  db: Database,
  keys: string[],
  now = Date.now(),
): Promise<number> {
  const rows = await db.prisma.loginThrottle.findMany({
    where: { key: { in: keys } },
    select: { lockedUntil: true },
  });
  return Math.max(0, ...rows.map((r) => (r.lockedUntil ? r.lockedUntil.getTime() - now : 0)));
}

export async function recordSignInFailure(
  db: Database,
  keys: string[],
  now = Date.now(),
): Promise<void> {
  const at = new Date(now);
  const forgetBefore = new Date(now - THROTTLE_FORGET_MS);
  for (const key of keys) {
    const rows = await db.prisma.$queryRaw<{ failures: number }[]>`
      INSERT INTO "LoginThrottle" (key, failures, "updatedAt") VALUES (${key}, 1, ${at})
      ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN "LoginThrottle"."updatedAt" < ${forgetBefore} THEN 1 ELSE "LoginThrottle".failures + 1 END,
        "updatedAt" = ${at}
      RETURNING failures`;
    const failures = rows[0]?.failures ?? 1;
    if (failures > THROTTLE_FREE_FAILURES) {
      const ms = Math.min(THROTTLE_MAX_MS, 1000 * 2 ** (failures - THROTTLE_FREE_FAILURES - 1));
      await db.prisma.loginThrottle.update({
        where: { key },
        data: { lockedUntil: new Date(now + ms) },
      });
    }
  }
}

export async function clearSignInFailures(db: Database, email: string): Promise<void> {
  await db.prisma.loginThrottle.deleteMany({ where: { key: `email:${email.toLowerCase()}` } });
}

/** Random single-use tokens (invites, reset links, API keys): the plain value goes to the person once, the sha256 is stored. */
export function newToken(prefix: string, bytes = 24): { token: string; hash: string } {
  const token = `${prefix}${randomBytes(bytes).toString("base64url")}`;
  return { token, hash: tokenHash(token) };
}

export { tokenHash as sha256Hex };
