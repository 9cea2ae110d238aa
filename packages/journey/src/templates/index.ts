// The template gallery: journeys from real campaigns, as JSON-able drafts.
import { abTest } from "./ab-test.ts";
import { anniversary } from "./anniversary.ts";
import { machineRegistration } from "./machine-registration.ts";
import { postPurchaseSeries } from "./post-purchase-series.ts";
import { storeVisit } from "./store-visit.ts";
import type { GalleryTemplate } from "./types.ts";

export type { GalleryTemplate, StarterPage } from "./types.ts";

export const templates: readonly GalleryTemplate[] = [
  machineRegistration,
  postPurchaseSeries,
  storeVisit,
  anniversary,
  abTest,
];
