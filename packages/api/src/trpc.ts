import type { Database, Role } from "@postpath/db";
import type { EngineContext, Keyring } from "@postpath/engine";
import { initTRPC, TRPCError } from "@trpc/server";
import { z } from "zod";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  workspaceId: string;
}

/** What every procedure receives. Built per request by the server (or by tests for createCaller). */
export interface ApiContext {
  db: Database;
  engine: EngineContext;
  user: SessionUser | null;
  /** admin issue: master keys for channel credentials (absent: credentials cannot be added). */
  keyring?: Keyring;
  /** admin issue: the caller's IP, for sign-in throttling. */
  ip?: string;
  /** Session cookie plumbing, provided by the HTTP adapter. */
  session: {
    token: string | null;
    set(token: string, expiresAt: Date): void;
    clear(): void;
  };
}

const t = initTRPC.context<ApiContext>().create({
  errorFormatter({ shape, error }) {
    // Flatten zod errors so clients can show "which field and why" next to the field.
    const fieldErrors =
      error.cause instanceof z.ZodError
        ? error.cause.issues.map((i) => ({
            path: i.path.map(String).join("."),
            message: i.message,
          }))
        : null;
    const cause = error.cause as { issues?: unknown } | undefined;
    const journeyIssues =
      error.cause && !(error.cause instanceof z.ZodError) && Array.isArray(cause?.issues)
        ? cause.issues
        : null;
    return { ...shape, data: { ...shape.data, fieldErrors, journeyIssues } };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Anyone, signed in or not. */
export const publicProcedure = t.procedure;

const ROLE_RANK: Record<Role, number> = { VIEWER: 0, MARKETER: 1, ADMIN: 2 };

function requireRole(min: Role) {
  return t.middleware(({ ctx, next }) => {
    if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
    if (ROLE_RANK[ctx.user.role] < ROLE_RANK[min]) {
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `This needs the ${min} role; you are ${ctx.user.role}.`,
      });
    }
    return next({ ctx: { ...ctx, user: ctx.user } });
  });
}

/** Any signed-in member of the workspace (read-only things). */
export const viewerProcedure = t.procedure.use(requireRole("VIEWER"));
/** Marketers and admins: journeys, templates, customers. */
export const marketerProcedure = t.procedure.use(requireRole("MARKETER"));
/** Admins only: users, credentials, API keys, limits. */
export const adminProcedure = t.procedure.use(requireRole("ADMIN"));
