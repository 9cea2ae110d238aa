import type { QueryClient } from "@tanstack/react-query";
import { QueryClientProvider, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Me } from "./api/contract.ts";
import { Suspense, lazy } from "react";
import { JourneyListPage } from "./pages/JourneyListPage.tsx";
import { SignInPage } from "./pages/SignInPage.tsx";
import { hrefs, useRoute } from "./routing.ts";
import { adminHrefs } from "./admin/routes.ts"; // admin issue
import { pagesHrefs } from "./pages-area/routes.ts"; // issue 14
import { customersHrefs } from "./customers-area/routes.ts"; // issue 16
import { dashboardHrefs } from "./dashboard-area/routes.ts"; // issue 17
import { segmentsHrefs } from "./segments-area/routes.ts"; // issue 16
import { forgetSession, useEndSessionOnUnauthorized } from "./session.ts";
import type { TrpcClient } from "./trpc.ts";
import { TRPCProvider, trpcErrorCode, useTRPC } from "./trpc.ts";

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

// issue 17: the workspace KPI dashboard (Recharts, lazily too).
const KpiDashboardPage = lazy(() =>
  import("./dashboard-area/KpiDashboardPage.tsx").then((m) => ({ default: m.KpiDashboardPage })),
);

export function App({
  trpcClient,
  queryClient,
}: {
  trpcClient: TrpcClient;
  queryClient: QueryClient;
}) {
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <Shell />
      </TRPCProvider>
    </QueryClientProvider>
  );
}

function Shell() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  useEndSessionOnUnauthorized();
  const route = useRoute();

  if (me.isPending)
    return (
      <p className="page" role="status">
        Loading…
      </p>
    );
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
  if (route.page === "invite" || route.page === "reset" || route.page === "signup") {
    // admin issue: an invite link works without a session; issue 12: so do reset links and sign-up.
    return (
      <Suspense
        fallback={
          <p className="page" role="status">
            Loading…
          </p>
        }
      >
        {route.page === "invite" ? (
          <InvitePage token={route.token} />
        ) : route.page === "reset" ? (
          <ResetPage token={route.token} />
        ) : (
          <SignUpPage />
        )}
      </Suspense>
    );
  }
  if (!me.data) return <SignInPage />;
  return (
    <>
      <AppHeader me={me.data} />
      <main className="main">
        <Suspense
          fallback={
            <p className="page" role="status">
              Loading…
            </p>
          }
        >
          <Page me={me.data} />
        </Suspense>
      </main>
    </>
  );
}

function Page({ me }: { me: Me }) {
  const route = useRoute();
  switch (route.page) {
    case "journeys":
      return <JourneyListPage />;
    case "journey":
      return <JourneyPage key={route.id} id={route.id} />;
    case "admin": // admin issue
      return <AdminPage tab={route.tab} isAdmin={me.role === "ADMIN"} />;
    case "invite": // admin issue: shown by Shell before the session check
      return <InvitePage token={route.token} />;
    case "reset": // issue 12: shown by Shell before the session check
      return <ResetPage token={route.token} />;
    case "signup":
      return <SignUpPage />;
    case "account": // issue 12
      return <AccountPage me={me} />;
    case "pages": // issue 14
      return <PageListPage />;
    case "landingPage": // issue 14
      return <PageEditorPage key={route.id} id={route.id} />;
    case "customers": // issue 16
      return <CustomerSearchPage />;
    case "customer": // issue 16
      return <CustomerProfilePage key={route.id} id={route.id} canErase={me.role === "ADMIN"} />;
    case "journeyAnalytics": // issue 17
      return <JourneyAnalyticsPage key={route.id} id={route.id} />;
    case "dashboard": // issue 17
      return <KpiDashboardPage />;
    case "segments": // issue 16
      return <SegmentListPage />;
    case "segment": // issue 16
      return <SegmentEditorPage key={route.id ?? "new"} id={route.id} />;
    case "notFound":
      return (
        <section className="page">
          <h1>Page not found</h1>
          <a href={hrefs.journeys()}>Go to journeys</a>
        </section>
      );
  }
}

function AppHeader({ me }: { me: Me }) {
  const trpc = useTRPC();
  const area = useRoute().page;
  const inPages = area === "pages" || area === "landingPage";
  const inJourneys = area === "journeys" || area === "journey" || area === "journeyAnalytics";
  const inCustomers = area === "customers" || area === "customer";
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
        <a href={hrefs.journeys()} aria-current={inJourneys ? "page" : undefined}>
          Journeys
        </a>
        <a href={pagesHrefs.pages()} aria-current={inPages ? "page" : undefined}>
          Pages
        </a>
        <a href={customersHrefs.customers()} aria-current={inCustomers ? "page" : undefined}>
          Customers
        </a>
        <a
          href={segmentsHrefs.segments()}
          aria-current={area === "segments" || area === "segment" ? "page" : undefined}
        >
          Segments
        </a>
        <a
          href={dashboardHrefs.dashboard()}
          aria-current={area === "dashboard" ? "page" : undefined}
        >
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
