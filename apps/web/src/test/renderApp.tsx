import { CUSTOMER_FIELDS } from "@postpath/journey";
import { render } from "@testing-library/react";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { JourneyDetail, JourneyListItem, Me, WorkspaceCatalog } from "../api/contract.ts";
import { App } from "../App.tsx";
import type { SegmentRow } from "../segments-area/contract.ts";
import type { PageListItem } from "../pages-area/contract.ts";
import type { CouponPoolChoice } from "../canvas/pickers.ts";
import { JOURNEYS_PER_PAGE } from "../pages/JourneyListPage.tsx";
import type { AppRouter } from "../trpc.ts";
import { makeQueryClient } from "../trpc.ts";

/** `fetch` as the test environment has it; a test that stubs it answers every request itself. */
const environmentFetch = globalThis.fetch;

/**
 * The server at its HTTP boundary for `answers`: the journey page always asks for the journey
 * afresh, so `journeys.get` is answered with `answers.journey` (and the other seeded queries with
 * theirs). Anything else fails visibly; the client points at a closed port.
 */
function answering(answers: Parameters<typeof renderApp>[0]): typeof fetch {
  const served: Record<string, (input: unknown) => unknown> = {
    "auth.me": () => answers.me,
    ...(answers.journey
      ? {
          "journeys.get": (input) => {
            const id = (input as { id?: unknown } | undefined)?.id;
            if (id !== answers.journey?.id) throw new Error("NOT_FOUND");
            return answers.journey;
          },
        }
      : {}),
    ...(answers.journeys ? { "journeys.list": () => answers.journeys } : {}),
  };
  return (url, init) => {
    // A test that stubbed fetch is the server for everything.
    if (globalThis.fetch !== environmentFetch) return globalThis.fetch(url, init);
    const u = new URL(url instanceof Request ? url.url : String(url));
    const paths = decodeURIComponent(u.pathname.replace(/^\/trpc\//, "")).split(",");
    if (init?.method === "POST" || !paths.every((p) => p in served))
      return environmentFetch(url, init);
    const inputs = JSON.parse(u.searchParams.get("input") ?? "{}") as Record<string, unknown>;
    const items = paths.map((path, i) => {
      try {
        return { result: { data: served[path]?.(inputs[String(i)]) ?? null } };
      } catch {
        const data = { code: "NOT_FOUND", httpStatus: 404, path };
        return { error: { message: "Not found", code: -32004, data } };
      }
    });
    return Promise.resolve(
      new Response(JSON.stringify(items), {
        status: 200,
        headers: { "content-type": "application/json" },
      }),
    );
  };
}

/**
 * Renders the whole app with answers already in the query cache, as if the server had sent them;
 * the queries a page always asks the server again (the journey being edited) get the same answers
 * through `fetch`. Other requests go to a closed port and fail visibly instead of reaching some
 * server.
 */
export function renderApp(answers: {
  me: Me | null;
  journeys?: JourneyListItem[];
  journey?: JourneyDetail;
  templates?: {
    id: string;
    name: string;
    description: string;
    steps: number;
    pages?: { slug: string; name: string }[];
  }[];
  /** `journeys.catalog`; by default a workspace that has observed nothing yet. */
  catalog?: WorkspaceCatalog;
  /** issue 16: `segments.list` (the editor's segment pickers); by default none. */
  segments?: SegmentRow[];
  /** issue 16: `pages.list` (the PURL step's page picker); unanswered by default. */
  pages?: PageListItem[];
  /** issue 16: `journeys.couponPools` (the coupon step's pool picker); unanswered by default. */
  couponPools?: CouponPoolChoice[];
}) {
  const queryClient = makeQueryClient();
  queryClient.setDefaultOptions({ queries: { staleTime: Infinity, retry: false } });
  const trpcClient = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: "http://127.0.0.1:9/trpc", fetch: answering(answers) })],
  });
  const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
  queryClient.setQueryData(trpc.auth.me.queryKey(), answers.me);
  if (answers.journeys)
    queryClient.setQueryData(trpc.journeys.list.infiniteQueryKey({ limit: JOURNEYS_PER_PAGE }), {
      pages: [answers.journeys],
      pageParams: [null],
    });
  if (answers.templates)
    queryClient.setQueryData(
      trpc.journeys.templates.queryKey(),
      answers.templates.map((t) => ({ ...t, pages: t.pages ?? [] })),
    );
  const segments = answers.segments ?? [];
  const catalog: WorkspaceCatalog = {
    segments: segments.map((s) => s.id),
    ...(answers.catalog ?? { customerFields: [...CUSTOMER_FIELDS] }),
  };
  // As the editor reads it (WorkspaceCatalog): pages and coupon pools only when a test gives
  // them (issue 16: the server always sends both; without them nothing is checked).
  queryClient.setQueryData(trpc.journeys.catalog.queryKey(), catalog as never);
  queryClient.setQueryData(trpc.segments.list.queryKey(), segments);
  if (answers.pages)
    queryClient.setQueryData(
      trpc.pages.list.queryKey(),
      answers.pages.map((p) => ({ revision: 1, ...p })),
    );
  if (answers.couponPools)
    queryClient.setQueryData(trpc.journeys.couponPools.queryKey(), answers.couponPools);
  if (answers.journey)
    queryClient.setQueryData(
      trpc.journeys.get.queryKey({ id: answers.journey.id }),
      answers.journey,
    );
  return { queryClient, ...render(<App trpcClient={trpcClient} queryClient={queryClient} />) };
}
