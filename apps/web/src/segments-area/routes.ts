// issue 16: the Segments area — `#/segments` (list and lifecycle stages), `#/segments/new`,
// `#/segments/<id>` (the editor with the live size preview); its routes are in router.tsx.

export const segmentsHrefs = {
  segments: () => "#/segments",
  newSegment: () => "#/segments/new",
  segment: (id: string) => `#/segments/${encodeURIComponent(id)}`,
};
