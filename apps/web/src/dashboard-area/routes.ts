// issue 17, item 6: the workspace KPI dashboard — `#/dashboard`.
export type DashboardRoute = { page: "dashboard" };

/** `path` without the leading '#' and trailing slashes; null when it is not the dashboard. */
export function parseDashboardPath(path: string): DashboardRoute | null {
  return path === "/dashboard" ? { page: "dashboard" } : null;
}

export const dashboardHrefs = { dashboard: () => "#/dashboard" };
