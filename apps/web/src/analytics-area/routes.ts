// issue 17: a journey's analytics — `#/journeys/<id>/analytics` (its route is in router.tsx).

export const analyticsHrefs = {
  journey: (id: string) => `#/journeys/${encodeURIComponent(id)}/analytics`,
};
