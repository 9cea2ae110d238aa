// Hash addresses: `#/journeys`, `#/journeys/<id>`. The routes that read them are in router.tsx
// (TanStack Router over the hash history); these build them, as each area's `*Hrefs` do.
export const hrefs = {
  journeys: () => "#/journeys",
  journey: (id: string) => `#/journeys/${encodeURIComponent(id)}`,
};

/** Goes to `href` (`#/…`): the router's hash history follows the address, as for a link. */
export function navigate(href: string): void {
  window.location.hash = href;
}
