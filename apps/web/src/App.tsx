import type { QueryClient } from "@tanstack/react-query";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { useState } from "react";
import { createAppRouter } from "./router.tsx";
import type { TrpcClient } from "./trpc.ts";
import { TRPCProvider } from "./trpc.ts";

/** The app: the API clients, and the page the address (`#/…`) names (routes in router.tsx). */
export function App({
  trpcClient,
  queryClient,
}: {
  trpcClient: TrpcClient;
  queryClient: QueryClient;
}) {
  // The page's first paint waits for the router's first load (a few microtasks, no data).
  const [router] = useState(() => createAppRouter());
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <RouterProvider router={router} />
      </TRPCProvider>
    </QueryClientProvider>
  );
}
