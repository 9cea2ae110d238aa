// Session state lives in the `auth.me` query: null means signed out.
import type { QueryClient } from "@tanstack/react-query";
import { hashKey, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { trpcErrorCode, useTRPC } from "./trpc.ts";

type MeKey = ReturnType<ReturnType<typeof useTRPC>["auth"]["me"]["queryKey"]>;

/** Marks the session as ended and drops every other cached answer (they belonged to the user). */
export function forgetSession(queryClient: QueryClient, meKey: MeKey): void {
  queryClient.setQueryData(meKey, null);
  const meHash = hashKey(meKey);
  queryClient.removeQueries({ predicate: (query) => query.queryHash !== meHash });
}

/** When any request is refused as UNAUTHORIZED (session expired or revoked), show the sign-in page. */
export function useEndSessionOnUnauthorized(): void {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  useEffect(() => {
    const meKey = trpc.auth.me.queryKey();
    const meHash = hashKey(meKey);
    return queryClient.getQueryCache().subscribe((event) => {
      if (event.type !== "updated" || event.action.type !== "error") return;
      if (event.query.queryHash === meHash) return;
      if (trpcErrorCode(event.action.error) === "UNAUTHORIZED") forgetSession(queryClient, meKey);
    });
  }, [trpc, queryClient]);
}
