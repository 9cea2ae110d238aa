// issue 14: a fake API at the HTTP boundary for the Pages area's jsdom tests: `pages.*` kept in
// memory, refusing a save based on an older revision (CONFLICT) and a publish with problems
// (BAD_REQUEST), as the real router does.
import type { PageDocument } from "@postpath/journey";
import { ApiError, stubTrpc, type Handlers } from "../test/trpcStub.ts";
import type { PageDetail, PageFunnelData, PageListItem } from "./contract.ts";

export { ApiError } from "../test/trpcStub.ts";

// jsdom lacks matchMedia, which Puck reads for its responsive layout (a desktop-sized answer).
if (typeof window.matchMedia !== "function") {
  window.matchMedia = (query: string): MediaQueryList =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
}

export function draftWithHeading(text: string): PageDocument {
  return {
    root: { props: { title: "Welcome", accent: "#1f5f8b", schemaVersion: 1 } },
    content: [{ type: "Heading", props: { id: "heading-1", text, level: "h1", align: "left" } }],
  };
}

export function pageDetail(overrides: Partial<PageDetail> = {}): PageDetail {
  return {
    id: "pg1",
    name: "Machine registration",
    slug: "machine-registration",
    draft: draftWithHeading("Welcome, {{ customer.first_name }}"),
    revision: 1,
    publishedVersion: null,
    updatedAt: "2026-11-20T10:15:00.000Z",
    versions: [],
    ...overrides,
  };
}

/** `pages.funnel` of a page nobody has been sent yet. */
export function emptyFunnel(): PageFunnelData {
  return {
    links: 0,
    customers: 0,
    visited: 0,
    visitors: 0,
    visits: 0,
    started: 0,
    submitted: 0,
    submitters: 0,
    submissions: 0,
    runs: 0,
    reachedGoal: 0,
    steps: [],
    versions: [],
  };
}

/** Stubs `fetch`: every tRPC call is answered from `pages` (and `extra` handlers). */
export function fakePagesServer(
  initial: PageDetail[],
  extra: Record<string, (input: unknown) => unknown> = {},
) {
  const pages = new Map(initial.map((p) => [p.id, structuredClone(p)]));
  let nextId = 1;
  const find = (input: unknown) => {
    const page = pages.get((input as { id: string }).id);
    if (!page) throw new ApiError("NOT_FOUND", "No page with that id in this workspace.");
    return page;
  };
  const listItem = (p: PageDetail): PageListItem => ({
    id: p.id,
    name: p.name,
    slug: p.slug,
    publishedVersion: p.publishedVersion,
    updatedAt: p.updatedAt,
  });
  const handlers: Handlers = {
    "pages.list": () => [...pages.values()].map(listItem),
    "pages.get": (input) => structuredClone(find(input)),
    "pages.create": (input) => {
      const { name, slug } = input as { name: string; slug: string };
      const id = `new${nextId++}`;
      pages.set(id, pageDetail({ id, name, slug, draft: draftWithHeading(name), revision: 0 }));
      return { id, revision: 0, slug };
    },
    "pages.save": (input) => {
      const { revision, draft, name } = input as {
        id: string;
        revision: number;
        draft: PageDocument;
        name?: string;
      };
      const page = find(input);
      if (revision !== page.revision)
        throw new ApiError(
          "CONFLICT",
          "This page was changed in another tab or by someone else. Reload to see their changes before saving.",
        );
      page.draft = draft;
      page.revision += 1;
      if (name !== undefined) page.name = name;
      page.updatedAt = new Date().toISOString();
      return { revision: page.revision, issues: [], savedAt: page.updatedAt };
    },
    "pages.publish": (input) => {
      const page = find(input);
      const version = (page.versions[0]?.version ?? 0) + 1;
      page.versions = [{ version, createdAt: new Date().toISOString() }, ...page.versions];
      page.publishedVersion = version;
      return { version };
    },
    "pages.funnel": (input) => {
      find(input);
      return emptyFunnel();
    },
    ...extra,
  };
  const calls = stubTrpc(handlers);
  return {
    calls,
    page: (id: string) => pages.get(id),
    /** Someone else saves the page (another tab or person). */
    saveElsewhere(id: string, draft: PageDocument) {
      const page = pages.get(id);
      if (!page) throw new Error(`no page ${id}`);
      page.draft = draft;
      page.revision += 1;
    },
    callsTo: (path: string) => calls.filter((c) => c.path === path),
  };
}

/**
 * Puck's editor starts a 500 ms timer when it mounts (its loading indicator) and never clears
 * it; on a busy machine it could fire after the test file's jsdom window is gone and fail the run
 * ("window is not defined"). For `afterAll`: a timer queued after it fires after it, while the
 * window still exists.
 */
export const letPuckTimersFire = () => new Promise<void>((done) => setTimeout(done, 600));
