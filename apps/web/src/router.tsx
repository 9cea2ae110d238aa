// The app's routes (TanStack Router) over hash addresses: `#/journeys`, `#/journeys/<id>`, …
// The hash history keeps every `#/…` address as before (bookmarks, links in emails, `<a href>`s
// built by the `*Hrefs` helpers, `navigate()`); the route table below replaces the hand-written
// parsers. Each area's page loads lazily: the canvas, Puck and Recharts load only on their pages.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Outlet,
  createHashHistory,
  createMemoryHistory,
  createRootRoute,
  createRoute,
  createRouter,
  isNotFound,
  notFound,
  useMatches,
  type ErrorComponentProps,
  type RouterHistory,
} from "@tanstack/react-router";
import { createContext, lazy, use } from "react";
import type { Me } from "./api/contract.ts";
import { adminHrefs, isAdminTab, type AdminTab } from "./admin/routes.ts";
import { couponsHrefs } from "./coupons-area/routes.ts";
import { customersHrefs } from "./customers-area/routes.ts";
import { dashboardHrefs } from "./dashboard-area/routes.ts";
import { pagesHrefs } from "./pages-area/routes.ts";
import { JourneyListPage } from "./pages/JourneyListPage.tsx";
import { SignInPage } from "./pages/SignInPage.tsx";
import { hrefs } from "./routing.ts";
import { segmentsHrefs } from "./segments-area/routes.ts";
import { forgetSession, useEndSessionOnUnauthorized } from "./session.ts";
import { trpcErrorCode, useTRPC } from "./trpc.ts";

/** The header link that is current on a page. */
type Area = "journeys" | "pages" | "customers" | "segments" | "coupons" | "dashboard";

declare module "@tanstack/react-router" {
  interface Register {
    router: PostpathRouter;
  }
  interface StaticDataRouteOption {
    area?: Area;
    /** Shown without a session: invite and reset links (sent by email) and sign-up. */
    public?: boolean;
  }
}

// The canvas (React Flow, the journey language) loads only when a journey is opened.
const JourneyPage = lazy(() =>
  import("./pages/JourneyPage.tsx").then((m) => ({ default: m.JourneyPage })),
);
// admin issue: workspace administration and the public invite page.
const AdminPage = lazy(() =>
  import("./admin/AdminPage.tsx").then((m) => ({ default: m.AdminPage })),
);
const InvitePage = lazy(() =>
  import("./admin/InvitePage.tsx").then((m) => ({ default: m.InvitePage })),
);
// issue 12: password reset link, sign-up (public) and the account page.
const ResetPage = lazy(() =>
  import("./admin/ResetPage.tsx").then((m) => ({ default: m.ResetPage })),
);
const SignUpPage = lazy(() =>
  import("./admin/SignUpPage.tsx").then((m) => ({ default: m.SignUpPage })),
);
const AccountPage = lazy(() =>
  import("./admin/AccountPage.tsx").then((m) => ({ default: m.AccountPage })),
);
// issue 14: landing pages; the block editor (Puck) loads only when a page is opened.
const PageListPage = lazy(() =>
  import("./pages-area/PageListPage.tsx").then((m) => ({ default: m.PageListPage })),
);
const PageEditorPage = lazy(() =>
  import("./pages-area/PageEditorPage.tsx").then((m) => ({ default: m.PageEditorPage })),
);
// issue 16: customers — search, and a profile with the timeline and journey traces.
const CustomerSearchPage = lazy(() =>
  import("./customers-area/CustomerSearchPage.tsx").then((m) => ({
    default: m.CustomerSearchPage,
  })),
);
const CustomerProfilePage = lazy(() =>
  import("./customers-area/CustomerProfilePage.tsx").then((m) => ({
    default: m.CustomerProfilePage,
  })),
);
// issue 17: a journey's analytics (Recharts loads only here, never with the canvas).
const JourneyAnalyticsPage = lazy(() =>
  import("./analytics-area/JourneyAnalyticsPage.tsx").then((m) => ({
    default: m.JourneyAnalyticsPage,
  })),
);
// issue 16: saved segments and lifecycle stages.
const SegmentListPage = lazy(() =>
  import("./segments-area/SegmentListPage.tsx").then((m) => ({ default: m.SegmentListPage })),
);
const SegmentEditorPage = lazy(() =>
  import("./segments-area/SegmentEditorPage.tsx").then((m) => ({ default: m.SegmentEditorPage })),
);
// issue 16: coupon pools.
const CouponPoolListPage = lazy(() =>
  import("./coupons-area/CouponPoolListPage.tsx").then((m) => ({ default: m.CouponPoolListPage })),
);
const CouponPoolPage = lazy(() =>
  import("./coupons-area/CouponPoolPage.tsx").then((m) => ({ default: m.CouponPoolPage })),
);
// issue 17: the workspace KPI dashboard (Recharts, lazily too).
const KpiDashboardPage = lazy(() =>
  import("./dashboard-area/KpiDashboardPage.tsx").then((m) => ({ default: m.KpiDashboardPage })),
);

/** The signed-in user, for the pages behind the session check (null outside it). */
const MeContext = createContext<Me | null>(null);

function useMe(): Me {
  const me = use(MeContext);
  if (!me) throw new Error("useMe outside the signed-in part of the app");
  return me;
}

function Loading() {
  return (
    <p className="page" role="status">
      Loading…
    </p>
  );
}

function NotFoundPage() {
  return (
    <section className="page">
      <h1>Page not found</h1>
      <a href={hrefs.journeys()}>Go to journeys</a>
    </section>
  );
}

/**
 * A screen's code that no longer exists on the server: the app was updated (a new deploy) while
 * this tab was open, and its older pages name chunks the new build does not have.
 */
export function isStaleCode(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /dynamically imported module|Importing a module script failed|error loading dynamically imported module|Unable to preload CSS/i.test(
    message,
  );
}

export function PageError({ error, reset }: ErrorComponentProps) {
  if (isStaleCode(error))
    return (
      <section className="page">
        <h1>Postpath was updated</h1>
        <p role="alert">
          A new version of Postpath was installed while this page was open. Reload to get it; your
          saved work is kept.
        </p>
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      </section>
    );
  return (
    <section className="page">
      <h1>Something went wrong</h1>
      <p className="form-error" role="alert">
        {error instanceof Error ? error.message : String(error)}
      </p>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </section>
  );
}

/** Every page: the session check, the header, and the route's page in the outlet. */
function Shell() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  useEndSessionOnUnauthorized();
  const isPublic = useMatches({ select: (matches) => matches.some((m) => m.staticData.public) });

  if (me.isPending) return <Loading />;
  if (me.isError && trpcErrorCode(me.error) !== "UNAUTHORIZED") {
    return (
      <main className="page">
        <p className="form-error" role="alert">
          Could not reach Postpath: {me.error.message}
        </p>
        <button type="button" onClick={() => void me.refetch()}>
          Try again
        </button>
      </main>
    );
  }
  // admin issue: an invite link works without a session; issue 12: so do reset links and sign-up.
  if (isPublic) return <Outlet />;
  if (!me.data) return <SignInPage />;
  return (
    <MeContext value={me.data}>
      <AppHeader me={me.data} />
      <main className="main">
        <Outlet />
      </main>
    </MeContext>
  );
}

function AppHeader({ me }: { me: Me }) {
  const trpc = useTRPC();
  const area = useMatches({ select: (matches) => matches.at(-1)?.staticData.area });
  const current = (a: Area) => (area === a ? "page" : undefined);
  const queryClient = useQueryClient();
  const signOut = useMutation(
    trpc.auth.signOut.mutationOptions({
      onSuccess: () => forgetSession(queryClient, trpc.auth.me.queryKey()),
    }),
  );
  return (
    <header className="app-header">
      <a className="app-header__brand" href={hrefs.journeys()}>
        Postpath
      </a>
      <span className="muted">{me.workspace.name}</span>
      <nav className="app-header__nav" aria-label="Main">
        <a href={hrefs.journeys()} aria-current={current("journeys")}>
          Journeys
        </a>
        <a href={pagesHrefs.pages()} aria-current={current("pages")}>
          Pages
        </a>
        <a href={customersHrefs.customers()} aria-current={current("customers")}>
          Customers
        </a>
        <a href={segmentsHrefs.segments()} aria-current={current("segments")}>
          Segments
        </a>
        <a href={couponsHrefs.coupons()} aria-current={current("coupons")}>
          Coupons
        </a>
        <a href={dashboardHrefs.dashboard()} aria-current={current("dashboard")}>
          Dashboard
        </a>
      </nav>
      {me.role === "ADMIN" ? <a href={adminHrefs.admin()}>Admin</a> : null /* admin issue */}
      <span className="app-header__spacer" />
      <span>
        {me.name} <span className="muted">({me.email})</span>
      </span>
      <a href={adminHrefs.account()}>Account</a>
      <button type="button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
        Sign out
      </button>
      {signOut.isError ? (
        <span className="form-error" role="alert">
          Could not sign out: {signOut.error.message}
        </span>
      ) : null}
    </header>
  );
}

/** An id segment: `[^/]+` as before, so `#/journeys//analytics` is not found. */
function nonEmpty<K extends string>(key: K) {
  return {
    parse: (params: Record<K, string>) => {
      if (params[key] === "") throw notFound();
      return { [key]: params[key] } as Record<K, string>;
    },
    stringify: (params: Record<K, string>) => params,
  };
}

const rootRoute = createRootRoute({ component: Shell, notFoundComponent: NotFoundPage });

// Journeys: `#/` and `#/journeys` list them; `#/journeys/<id>` opens the canvas.
const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/",
  staticData: { area: "journeys" },
  component: JourneyListPage,
});
const journeysRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/journeys",
  staticData: { area: "journeys" },
  component: JourneyListPage,
});
const journeyRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/journeys/$journeyId",
  params: nonEmpty("journeyId"),
  staticData: { area: "journeys" },
  component: JourneyView,
});
function JourneyView() {
  const { journeyId } = journeyRoute.useParams();
  return <JourneyPage key={journeyId} id={journeyId} />;
}
// issue 17: `#/journeys/<id>/analytics`.
const journeyAnalyticsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/journeys/$journeyId/analytics",
  params: nonEmpty("journeyId"),
  staticData: { area: "journeys" },
  component: JourneyAnalyticsView,
});
function JourneyAnalyticsView() {
  const { journeyId } = journeyAnalyticsRoute.useParams();
  return <JourneyAnalyticsPage key={journeyId} id={journeyId} />;
}

// admin issue: `#/admin` (the users tab), `#/admin/<tab>`; an unknown tab is not found.
const adminRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/admin",
  component: AdminView,
});
const adminTabRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/admin/$tab",
  params: {
    parse: ({ tab }): { tab: AdminTab } => {
      if (!isAdminTab(tab)) throw notFound();
      return { tab };
    },
    stringify: ({ tab }) => ({ tab }),
  },
  component: AdminTabView,
});
function AdminView() {
  return <AdminPage tab="users" isAdmin={useMe().role === "ADMIN"} />;
}
function AdminTabView() {
  const { tab } = adminTabRoute.useParams();
  return <AdminPage tab={tab} isAdmin={useMe().role === "ADMIN"} />;
}
// admin issue: the invite link; issue 12: reset links and sign-up. No session needed.
const inviteRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/invite/$token",
  params: nonEmpty("token"),
  staticData: { public: true },
  component: InviteView,
});
function InviteView() {
  return <InvitePage token={inviteRoute.useParams().token} />;
}
const resetRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/reset/$token",
  params: nonEmpty("token"),
  staticData: { public: true },
  component: ResetView,
});
function ResetView() {
  return <ResetPage token={resetRoute.useParams().token} />;
}
const signUpRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/signup",
  staticData: { public: true },
  component: SignUpPage,
});
// issue 12: `#/account`.
const accountRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/account",
  component: AccountView,
});
function AccountView() {
  return <AccountPage me={useMe()} />;
}

// issue 14: `#/pages` (the list) and `#/pages/<id>` (the block editor).
const pagesRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/pages",
  staticData: { area: "pages" },
  component: PageListPage,
});
const landingPageRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/pages/$pageId",
  params: nonEmpty("pageId"),
  staticData: { area: "pages" },
  component: LandingPageView,
});
function LandingPageView() {
  const { pageId } = landingPageRoute.useParams();
  return <PageEditorPage key={pageId} id={pageId} />;
}

// issue 16: `#/customers` (search) and `#/customers/<id>` (a profile).
const customersRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/customers",
  staticData: { area: "customers" },
  component: CustomerSearchPage,
});
const customerRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/customers/$customerId",
  params: nonEmpty("customerId"),
  staticData: { area: "customers" },
  component: CustomerView,
});
function CustomerView() {
  const { customerId } = customerRoute.useParams();
  const canErase = useMe().role === "ADMIN";
  return <CustomerProfilePage key={customerId} id={customerId} canErase={canErase} />;
}

// issue 16: `#/segments` (list and lifecycle stages), `#/segments/new`, `#/segments/<id>`.
const segmentsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/segments",
  staticData: { area: "segments" },
  component: SegmentListPage,
});
const newSegmentRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/segments/new",
  staticData: { area: "segments" },
  component: NewSegmentView,
});
function NewSegmentView() {
  return <SegmentEditorPage key="new" id={null} />;
}
const segmentRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/segments/$segmentId",
  params: nonEmpty("segmentId"),
  staticData: { area: "segments" },
  component: SegmentView,
});
function SegmentView() {
  const { segmentId } = segmentRoute.useParams();
  return <SegmentEditorPage key={segmentId} id={segmentId} />;
}

// issue 17, item 6: the workspace KPI dashboard, `#/dashboard`.
const dashboardRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/dashboard",
  staticData: { area: "dashboard" },
  component: KpiDashboardPage,
});

// issue 16: `#/coupons` (the coupon pools) and `#/coupons/<id>` (one pool).
const couponsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/coupons",
  staticData: { area: "coupons" },
  component: CouponPoolListPage,
});
const couponPoolRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/coupons/$poolId",
  params: nonEmpty("poolId"),
  staticData: { area: "coupons" },
  component: CouponPoolView,
});
function CouponPoolView() {
  const { poolId } = couponPoolRoute.useParams();
  return <CouponPoolPage key={poolId} id={poolId} />;
}

const routeTree = rootRoute.addChildren([
  indexRoute,
  journeysRoute,
  journeyRoute,
  journeyAnalyticsRoute,
  adminRoute,
  adminTabRoute,
  inviteRoute,
  resetRoute,
  signUpRoute,
  accountRoute,
  pagesRoute,
  landingPageRoute,
  customersRoute,
  customerRoute,
  segmentsRoute,
  newSegmentRoute,
  segmentRoute,
  dashboardRoute,
  couponsRoute,
  couponPoolRoute,
]);

/**
 * A router over the page's hash address (or `history`). The app makes one per mount (App.tsx),
 * each with its own hash history reading the address as it is then: a router's state is what it
 * last loaded, and a history learns of a hash set by script only at the next `popstate` (a task
 * later in jsdom), so neither is shared with an earlier mount.
 */
export function createAppRouter(history: RouterHistory = createHashHistory()) {
  return createRouter({
    routeTree,
    history,
    // As the hand-written parser was: `#/Journeys` is not `#/journeys`.
    caseSensitive: true,
    // A page still loading its code (React.lazy) shows this in the outlet.
    defaultPendingComponent: Loading,
    defaultErrorComponent: PageError,
  });
}
export type PostpathRouter = ReturnType<typeof createAppRouter>;

/** The page an address shows, with its parameters: what the route table matches for `hash`. */
export type Route =
  | { page: "journeys" }
  | { page: "journey"; id: string }
  | { page: "journeyAnalytics"; id: string }
  | { page: "admin"; tab: AdminTab }
  | { page: "invite"; token: string }
  | { page: "reset"; token: string }
  | { page: "signup" }
  | { page: "account" }
  | { page: "pages" }
  | { page: "landingPage"; id: string }
  | { page: "customers" }
  | { page: "customer"; id: string }
  | { page: "segments" }
  | { page: "segment"; id: string | null }
  | { page: "dashboard" }
  | { page: "coupons" }
  | { page: "couponPool"; id: string }
  | { page: "notFound"; hash: string };

/** Matches `hash` (`#/journeys/abc`) against the route table as the app does, without rendering. */
export function parseHash(hash: string): Route {
  const router = createAppRouter(createMemoryHistory({ initialEntries: [hash.slice(1) || "/"] }));
  const matches = router.matchRoutes(router.latestLocation);
  const leaf = matches.at(-1);
  const notFoundRoute: Route = { page: "notFound", hash };
  if (!leaf || matches.some((m) => m._notFound || isNotFound(m.paramsError))) return notFoundRoute;
  const params = leaf.params as Record<string, string>;
  const param = (key: string) => params[key] ?? "";
  switch (leaf.routeId) {
    case "/":
    case "/journeys":
      return { page: "journeys" };
    case "/journeys/$journeyId":
      return { page: "journey", id: param("journeyId") };
    case "/journeys/$journeyId/analytics":
      return { page: "journeyAnalytics", id: param("journeyId") };
    case "/admin":
      return { page: "admin", tab: "users" };
    case "/admin/$tab":
      return { page: "admin", tab: param("tab") as AdminTab };
    case "/invite/$token":
      return { page: "invite", token: param("token") };
    case "/reset/$token":
      return { page: "reset", token: param("token") };
    case "/signup":
      return { page: "signup" };
    case "/account":
      return { page: "account" };
    case "/pages":
      return { page: "pages" };
    case "/pages/$pageId":
      return { page: "landingPage", id: param("pageId") };
    case "/customers":
      return { page: "customers" };
    case "/customers/$customerId":
      return { page: "customer", id: param("customerId") };
    case "/segments":
      return { page: "segments" };
    case "/segments/new":
      return { page: "segment", id: null };
    case "/segments/$segmentId":
      return { page: "segment", id: param("segmentId") };
    case "/dashboard":
      return { page: "dashboard" };
    case "/coupons":
      return { page: "coupons" };
    case "/coupons/$poolId":
      return { page: "couponPool", id: param("poolId") };
    default:
      return notFoundRoute;
  }
}
