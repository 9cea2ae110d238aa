import { CUSTOMER_FIELDS } from "@postpath/journey";
import { render } from "@testing-library/react";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { JourneyDetail, JourneyListItem, Me, WorkspaceCatalog } from "../api/contract.ts";
import { App } from "../App.tsx";
import type { AppRouter } from "../trpc.ts";
import { makeQueryClient, makeTrpcClient } from "../trpc.ts";

/**
 * Renders the whole app with answers already in the query cache, as if the server had sent them.
 * The client points at a closed port: a request the cache does not cover fails visibly instead of
 * reaching some server.
 */
export function renderApp(answers: {
  me: Me | null;
  journeys?: JourneyListItem[];
  journey?: JourneyDetail;
  templates?: { id: string; name: string; description: string; steps: number }[];
  /** `journeys.catalog`; by default a workspace that has observed nothing yet. */
  catalog?: WorkspaceCatalog;
}) {
  const queryClient = makeQueryClient();
  queryClient.setDefaultOptions({ queries: { staleTime: Infinity, retry: false } });
  const trpcClient = makeTrpcClient("http://127.0.0.1:9/trpc");
  const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
  queryClient.setQueryData(trpc.auth.me.queryKey(), answers.me);
  if (answers.journeys) queryClient.setQueryData(trpc.journeys.list.queryKey(), answers.journeys);
  if (answers.templates)
    queryClient.setQueryData(trpc.journeys.templates.queryKey(), answers.templates);
  queryClient.setQueryData(
    trpc.journeys.catalog.queryKey(),
    answers.catalog ?? { customerFields: [...CUSTOMER_FIELDS] },
  );
  if (answers.journey)
    queryClient.setQueryData(
      trpc.journeys.get.queryKey({ id: answers.journey.id }),
      answers.journey,
    );
  return { queryClient, ...render(<App trpcClient={trpcClient} queryClient={queryClient} />) };
}
