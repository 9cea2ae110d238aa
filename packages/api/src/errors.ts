// The one place that decides what an error becomes for the client (issue 12, finding 8).
// - A TRPCError thrown on purpose keeps its code and message (written for the marketer).
// - Anything else is unexpected: `classifyUnexpected` may recognise it as the client's doing
//   (a 4xx) or as an outage (issue 13: a dependency down answers 503 — add the recognition there);
//   otherwise it stays INTERNAL_SERVER_ERROR, and the client sees only genericMessage() with the
//   request id while the log line with the same id carries the real error.
import { Prisma } from "@postpath/db";
import { TRPCError } from "@trpc/server";

/** What a client sees for an unexpected error; the request id lets support find the log line. */
export function genericMessage(requestId: string | undefined): string {
  const reference = requestId
    ? `give support this reference: ${requestId}`
    : "tell support when it happened";
  return `Something went wrong on our side. Try again; if it keeps happening, ${reference}.`;
}

/**
 * A TRPCError for an unexpected error the caller can act on, or null to keep it internal.
 * Hook: map further known causes here (e.g. a lost database connection → SERVICE_UNAVAILABLE);
 * keep the original as `cause` so logs and response hooks still see it.
 */
export function classifyUnexpected(err: unknown): TRPCError | null {
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    const field = fieldOf(err.meta);
    switch (err.code) {
      case "P2000": // value too long for the column
        return new TRPCError({
          code: "BAD_REQUEST",
          message: `${field ?? "A value"} is too long.`,
          cause: err,
        });
      case "P2002": // unique constraint: the same thing was made at the same time
        return new TRPCError({
          code: "CONFLICT",
          message: "This was just created or changed elsewhere. Reload and try again.",
          cause: err,
        });
      case "P2025": // the row went away between read and write
        return new TRPCError({
          code: "NOT_FOUND",
          message: "It was removed in the meantime. Reload to see the current state.",
          cause: err,
        });
    }
  }
  return null;
}

function fieldOf(meta: Record<string, unknown> | undefined): string | null {
  const target = meta?.["target"] ?? meta?.["column_name"];
  if (Array.isArray(target)) return target.map(String).join(", ");
  return typeof target === "string" ? target : null;
}
