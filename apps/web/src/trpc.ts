// The only place the client meets the API: types from @postpath/api (never its code), a batch
// link to same-origin /trpc so the HTTP-only session cookie flows.
import type { AppRouter } from "@postpath/api";
import { QueryClient } from "@tanstack/react-query";
import { TRPCClientError, createTRPCClient, httpBatchLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";

export type { AppRouter };

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export function makeTrpcClient(url = "/trpc") {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url,
        // The server refuses mutations without it (or a same-site Origin): a page on another
        // site cannot send a custom header with the user's cookie (apps/server/src/trpc-boundary.ts).
        headers: { "x-postpath-client": "web" },
        // The server's maxBatchSize.
        maxItems: 100,
        fetch: (input, init) => fetch(input, { ...init, credentials: "same-origin" }),
      }),
    ],
  });
}

export type TrpcClient = ReturnType<typeof makeTrpcClient>;

/** The tRPC error code (`UNAUTHORIZED`, `NOT_FOUND`, …) of an error, if it came from the API. */
export function trpcErrorCode(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data: unknown = error.data;
  if (typeof data !== "object" || data === null || !("code" in data)) return undefined;
  return typeof data.code === "string" ? data.code : undefined;
}

/**
 * A message a person can act on: the server's message, or for rejected input the per-field
 * messages its error formatter lists (`data.fieldErrors`).
 */
export function errorMessage(error: { message: string; data?: unknown }): string {
  const data = error.data;
  if (
    typeof data === "object" &&
    data !== null &&
    "fieldErrors" in data &&
    Array.isArray(data.fieldErrors)
  ) {
    const messages = data.fieldErrors.flatMap((f: unknown) =>
      typeof f === "object" && f !== null && "message" in f && typeof f.message === "string"
        ? [f.message]
        : [],
    );
    if (messages.length > 0) return messages.join(" ");
  }
  return error.message;
}

const CLIENT_ERRORS = new Set([
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "PARSE_ERROR",
]);

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        // Retrying cannot fix a request the server rejected; network and 5xx errors get two retries.
        retry: (failures, error) => !CLIENT_ERRORS.has(trpcErrorCode(error) ?? "") && failures < 2,
      },
    },
  });
}
