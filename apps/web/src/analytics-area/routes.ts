// issue 17: a journey's analytics — `#/journeys/<id>/analytics`.
export type AnalyticsRoute = { page: "journeyAnalytics"; id: string };

/** `path` without the leading '#' and trailing slashes; null when it is not an analytics route. */
export function parseAnalyticsPath(path: string): AnalyticsRoute | null {
  const match = /^\/journeys\/([^/]+)\/analytics$/.exec(path);
  if (match?.[1]) return { page: "journeyAnalytics", id: decodeURIComponent(match[1]) };
  return null;
}

export const analyticsHrefs = {
  journey: (id: string) => `#/journeys/${encodeURIComponent(id)}/analytics`,
};
