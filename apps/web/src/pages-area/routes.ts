// issue 14: the Pages area — `#/pages` (the list) and `#/pages/<id>` (the block editor); its
// routes are in router.tsx.

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
