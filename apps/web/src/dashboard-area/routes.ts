// issue 17, item 6: the workspace KPI dashboard — `#/dashboard` (its route is in router.tsx).

export const dashboardHrefs = { dashboard: () => "#/dashboard" };
