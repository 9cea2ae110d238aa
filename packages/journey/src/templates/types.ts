import type { PageDocument } from "../pages.ts";
import type { JourneyDraft } from "../schema.ts";

/** A landing page a template's journey links to, created with it (as a draft) when missing. */
export type StarterPage = {
  /** The address the journey's PURL step or a form's thank-you page names. */
  slug: string;
  name: string;
  document: PageDocument;
};

export type GalleryTemplate = {
  id: string;
  name: string;
  description: string;
  draft: JourneyDraft;
  /** Pages the journey uses (issue 14): "Use template" creates those the workspace lacks. */
  pages?: readonly StarterPage[];
};
