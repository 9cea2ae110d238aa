// issue 14: the Pages area — `#/pages` (the list) and `#/pages/<id>` (the block editor).
export type PagesRoute = { page: "pages" } | { page: "landingPage"; id: string };

/** `path` without the leading '#' and trailing slashes; null when it is not a Pages route. */
export function parsePagesPath(path: string): PagesRoute | null {
  if (path === "/pages") return { page: "pages" };
  const match = /^\/pages\/([^/]+)$/.exec(path);
  if (match?.[1]) return { page: "landingPage", id: decodeURIComponent(match[1]) };
  return null;
}

export const pagesHrefs = {
  pages: () => "#/pages",
  page: (id: string) => `#/pages/${encodeURIComponent(id)}`,
};

/** A page address suggested from its name: "Machine registration!" → "machine-registration". */
export function slugFromName(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80)
    .replace(/-+$/, "");
}
