// Hash routing: `#/journeys`, `#/journeys/<id>`. No router library until the app needs one.
import { useSyncExternalStore } from "react";
import { parseAdminPath, type AdminRoute } from "./admin/routes.ts"; // admin issue
import { parsePagesPath, type PagesRoute } from "./pages-area/routes.ts"; // issue 14
import { parseCustomersPath, type CustomersRoute } from "./customers-area/routes.ts"; // issue 16
import { parseAnalyticsPath, type AnalyticsRoute } from "./analytics-area/routes.ts"; // issue 17
import { parseDashboardPath, type DashboardRoute } from "./dashboard-area/routes.ts"; // issue 17
import { parseSegmentsPath, type SegmentsRoute } from "./segments-area/routes.ts"; // issue 16

export type Route =
  | { page: "journeys" }
  | { page: "journey"; id: string }
  | AdminRoute
  | PagesRoute
  | CustomersRoute
  | AnalyticsRoute
  | DashboardRoute
  | SegmentsRoute
  | { page: "notFound"; hash: string };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/\/+$/, "");
  if (path === "" || path === "/journeys") return { page: "journeys" };
  const match = /^\/journeys\/([^/]+)$/.exec(path);
  if (match?.[1]) return { page: "journey", id: decodeURIComponent(match[1]) };
  const admin = parseAdminPath(path); // admin issue: #/admin/<tab>, #/invite/<token>
  if (admin) return admin;
  const pages = parsePagesPath(path); // issue 14: #/pages, #/pages/<id>
  if (pages) return pages;
  const customers = parseCustomersPath(path); // issue 16: #/customers, #/customers/<id>
  if (customers) return customers;
  const analytics = parseAnalyticsPath(path); // issue 17: #/journeys/<id>/analytics
  if (analytics) return analytics;
  const dashboard = parseDashboardPath(path); // issue 17: #/dashboard
  if (dashboard) return dashboard;
  const segments = parseSegmentsPath(path); // issue 16: #/segments, #/segments/<id>
  if (segments) return segments;
  return { page: "notFound", hash };
}

export const hrefs = {
  journeys: () => "#/journeys",
  journey: (id: string) => `#/journeys/${encodeURIComponent(id)}`,
};

export function navigate(href: string): void {
  window.location.hash = href;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseHash(hash);
}
