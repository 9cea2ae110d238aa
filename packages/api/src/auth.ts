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

export async function createSession(db: Database, userId: string, now = Date.now()): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now + SESSION_TTL_MS);
  await db.prisma.session.create({ data: { userId, tokenHash: tokenHash(token), expiresAt } });
  return { token, expiresAt };
}

export async function userForSession(db: Database, token: string | null, now = Date.now()): Promise<SessionUser | null> {
  if (!token) return null;
  const session = await db.prisma.session.findUnique({
    where: { tokenHash: tokenHash(token) },
    select: { expiresAt: true, user: { select: { id: true, email: true, name: true, role: true, workspaceId: true } } },
  });
  if (!session || session.expiresAt.getTime() <= now) return null;
  return session.user;
}

export async function deleteSession(db: Database, token: string): Promise<void> {
  await db.prisma.session.deleteMany({ where: { tokenHash: tokenHash(token) } });
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const [k, ...rest] = part.trim().split("=");
    if (k === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}
