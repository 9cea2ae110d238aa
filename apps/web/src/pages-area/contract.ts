// issue 14: the shapes the Pages area reads from the API (`pages.*`). `contract-check.ts` proves
// at compile time that the real router's outputs fit these.
import type { PageDocument } from "@postpath/journey";

export interface PageListItem {
  id: string;
  name: string;
  slug: string;
  publishedVersion: number | null;
  updatedAt: string;
}

export interface PageDetail {
  id: string;
  name: string;
  slug: string;
  draft: PageDocument;
  revision: number;
  publishedVersion: number | null;
  updatedAt: string;
  versions: { version: number; createdAt: string }[];
}

/** `pages.funnel` (issue 14): a page's links made → visited → form sent → goal reached. */
export interface FunnelCounts {
  /** Personal links made for the page (cards sent). */
  links: number;
  customers: number;
  /** Links opened at least once (unique); `visits` counts every opening. */
  visited: number;
  visitors: number;
  visits: number;
  /** Links whose form was started (a field took the focus). */
  started: number;
  /** Links through which a form was sent (unique); `submissions` counts each submission. */
  submitted: number;
  submitters: number;
  submissions: number;
  /** Journey runs that made the links, and of those the ones that reached the goal. */
  runs: number;
  reachedGoal: number;
}

export interface PageFunnelData extends FunnelCounts {
  steps: (FunnelCounts & {
    journeyId: string | null;
    journeyName: string | null;
    stepId: string | null;
  })[];
  versions: {
    version: number;
    visits: number;
    visitors: number;
    submissions: number;
    submitters: number;
  }[];
}
