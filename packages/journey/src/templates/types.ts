import type { JourneyDraft } from "../schema.ts";

export type GalleryTemplate = {
  id: string;
  name: string;
  description: string;
  draft: JourneyDraft;
};
