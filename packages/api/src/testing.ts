// For the router tests: a fresh Postgres database, the machine's Redis under a unique prefix, an
// engine context, and users in workspaces, with an ApiContext per user (createCaller).
import type { Role } from "@postpath/db";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import {
  createEngineContext,
  createLogger,
  createRedis,
  staticProviders,
  type EngineContext,
} from "@postpath/engine";
import { TRPCError } from "@trpc/server";
import type { Redis } from "ioredis";
import type { ApiContext, SessionUser } from "./trpc.ts";

export interface ApiTestEnv<K extends string> {
  db: TestDatabase;
  redis: Redis;
  engine: EngineContext;
  prefix: string;
  users: Record<K, SessionUser>;
  ctxFor: (user: SessionUser | null) => ApiContext;
  close: () => Promise<void>;
}

/** Two marketers in two workspaces and a viewer in the first: the usual cast of a router test. */
export const TWO_WORKSPACES = [
  ["a", "ws-a", "MARKETER"],
  ["b", "ws-b", "MARKETER"],
  ["viewer", "ws-a", "VIEWER"],
] as const;

/** `users`: [key, workspace slug, role]; users sharing a slug share the workspace. */
export async function openApiTestEnv<K extends string>(
  users: readonly (readonly [K, string, Role])[],
  opts: { prefix?: string } = {},
): Promise<ApiTestEnv<K>> {
  const db = await createTestDatabase();
  const redis = createRedis("redis://127.0.0.1:6379");
  const prefix = `${opts.prefix ?? "api"}${Date.now()}`;
  const engine = createEngineContext({
    db,
    connection: redis,
    prefix,
    log: createLogger("silent"),
    providers: staticProviders({}),
  });
  const made = {} as Record<K, SessionUser>;
  for (const [key, slug, role] of users) {
    const ws = await db.prisma.workspace.upsert({
      where: { slug },
      create: { name: slug, slug },
      update: {},
    });
    const u = await db.prisma.user.create({
      data: { workspaceId: ws.id, email: `${key}-${slug}@example.com`, name: key, role },
    });
    made[key] = { id: u.id, email: u.email, name: u.name, role: u.role, workspaceId: ws.id };
  }
  return {
    db,
    redis,
    engine,
    prefix,
    users: made,
    ctxFor: (user) => ({
      db,
      engine,
      user,
      session: { token: null, set: () => undefined, clear: () => undefined },
    }),
    async close() {
      await redis.quit();
      await db.drop();
    },
  };
}

/** The TRPCError a call fails with (throws when it succeeds or fails otherwise). */
export async function rejects(p: Promise<unknown>): Promise<TRPCError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return err;
    throw new Error(`expected a TRPCError, got: ${String(err)}`, { cause: err });
  }
  throw new Error("expected the call to fail");
}
