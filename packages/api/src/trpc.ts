import type { Database, Role } from "@postpath/db";
import type { EngineContext, Keyring } from "@postpath/engine";
import { initTRPC, TRPCError } from "@trpc/server";
import { z } from "zod";
import { classifyUnexpected, genericMessage } from "./errors.ts";
import { inputProblem, inputProblemError } from "./zod.ts";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  workspaceId: string;
}

/** issue 12: instance-wide account settings, from the environment. */
export interface AccountSettings {
  /** ALLOW_SIGNUP: anyone may create a workspace (and its first admin) by signing up. */
  allowSignup: boolean;
  /** INSTANCE_OWNER_EMAILS: these people may create workspaces (as may users flagged instanceOwner). */
  instanceOwnerEmails: readonly string[];
}

/** What every procedure receives. Built per request by the server (or by tests for createCaller). */
export interface ApiContext {
  db: Database;
  /**
   * issue 15: a read replica for read-only figures (analytics, the journey list's counts) —
   * reads that may lag the primary by the replica's delay. Absent: they read `db`. Use `readerOf`.
   */
  readDb?: Database;
  engine: EngineContext;
  user: SessionUser | null;
  /** admin issue: master keys for channel credentials (absent: credentials cannot be added). */
  keyring?: Keyring;
  /** admin issue: the caller's IP, for sign-in throttling. */
  ip?: string;
  /** issue 12: who may create workspaces (absent: sign-up off, owners only by their flag). */
  accounts?: AccountSettings;
  /** issue 12: the HTTP request's id; unexpected errors show it, and the log line carries it. */
  requestId?: string;
  /**
   * issue 15: how old the journey list's figures (entered, converted) may be, in ms; the HTTP
   * server sets it (journeys.list.ts). Absent: they are read on every call.
   */
  listFiguresMaxAgeMs?: number;
  /** Session cookie plumbing, provided by the HTTP adapter. */
  session: {
    token: string | null;
    set(token: string, expiresAt: Date): void;
    clear(): void;
  };
}

/** The database read-only figures come from: the replica when there is one. */
export const readerOf = (ctx: Pick<ApiContext, "db" | "readDb">): Database => ctx.readDb ?? ctx.db;

const t = initTRPC.context<ApiContext>().create({
  // Never a stack in a response, in any mode (the log has it).
  isDev: false,
  errorFormatter({ shape, error, ctx }) {
    const requestId = ctx?.requestId ?? null;
    // issue 12: an unexpected error shows a message for people and the request id, never its own
    // message (database errors, file paths); the log line with the same id has the real error.
    const message =
      error.code === "INTERNAL_SERVER_ERROR" ? genericMessage(ctx?.requestId) : shape.message;
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
    const { stack: _stack, ...data } = shape.data as typeof shape.data & { stack?: string };
    return { ...shape, message, data: { ...data, requestId, fieldErrors, journeyIssues } };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure starts here (issue 12): the raw input is refused, naming the field, when it
 * holds what cannot be stored (NUL, lone surrogates) or is nested too deeply — before any schema
 * or handler sees it; and unexpected errors a client can act on become 4xx (errors.ts).
 */
const baseProcedure = t.procedure.use(async ({ getRawInput, next }) => {
  const problem = inputProblem(await getRawInput());
  if (problem) throw inputProblemError(problem);
  const result = await next();
  if (!result.ok && result.error.code === "INTERNAL_SERVER_ERROR") {
    const mapped = classifyUnexpected(result.error.cause);
    if (mapped) throw mapped;
  }
  return result;
});

/** Anyone, signed in or not. */
export const publicProcedure = baseProcedure;

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
export const viewerProcedure = baseProcedure.use(requireRole("VIEWER"));
/** Marketers and admins: journeys, templates, customers. */
export const marketerProcedure = baseProcedure.use(requireRole("MARKETER"));
/** Admins only: users, credentials, API keys, limits. */
export const adminProcedure = baseProcedure.use(requireRole("ADMIN"));
