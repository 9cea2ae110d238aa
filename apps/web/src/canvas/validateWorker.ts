// A big journey's first check, off the page's main thread (issue 18 item 5): `validate` of 1,000
// steps takes the main thread 150–300 ms, which right after the first draw would hold up the
// page (and whatever the user does first). The store sends the draft and the catalogue; the
// answer is the issues, plain data. See `validateOffThread` (validateOffThread.ts).
import { validate } from "@postpath/journey";
import type { Catalog, JourneyDraft } from "@postpath/journey";

type Ask = { id: number; draft: JourneyDraft; catalog: Catalog };

self.onmessage = (event: MessageEvent<Ask>) => {
  const { id, draft, catalog } = event.data;
  try {
    self.postMessage({ id, issues: validate(draft, catalog) });
  } catch (error) {
    self.postMessage({ id, error: String(error) });
  }
};
