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
