// issue 16: the Segments area — `#/segments` (list and lifecycle stages), `#/segments/new`,
// `#/segments/<id>` (the editor with the live size preview).
export type SegmentsRoute = { page: "segments" } | { page: "segment"; id: string | null };

/** `path` without the leading '#' and trailing slashes; null when it is not a Segments route. */
export function parseSegmentsPath(path: string): SegmentsRoute | null {
  if (path === "/segments") return { page: "segments" };
  if (path === "/segments/new") return { page: "segment", id: null };
  const match = /^\/segments\/([^/]+)$/.exec(path);
  if (match?.[1]) return { page: "segment", id: decodeURIComponent(match[1]) };
  return null;
}

export const segmentsHrefs = {
  segments: () => "#/segments",
  newSegment: () => "#/segments/new",
  segment: (id: string) => `#/segments/${encodeURIComponent(id)}`,
};
