import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { authRouter } from "./routers/auth.ts";
import { journeysRouter } from "./routers/journeys.ts";
import { operateRouter } from "./routers/operate.ts"; // engine issue
import { pagesRouter } from "./routers/pages.ts"; // issue 14
import { consentRouter } from "./routers/consent.ts"; // issue 16: subscriptions, suppressions
import { customersRouter } from "./routers/customers.ts"; // issue 16
import { analyticsRouter } from "./routers/analytics.ts"; // issue 17
import { migrationRouter } from "./routers/migration.ts"; // issue 18
import { kpisRouter } from "./routers/kpis.ts"; // issue 17: workspace KPIs
import { segmentsRouter } from "./routers/segments.ts"; // issue 16: saved segments
import { couponsRouter } from "./routers/coupons.ts"; // issue 16: coupon pools
// admin issue
import { adminRouter } from "./routers/admin.ts";
import { apiKeysRouter } from "./routers/apiKeys.ts";
import { auditRouter } from "./routers/audit.ts";
import { credentialsRouter } from "./routers/credentials.ts";
import { invitesRouter } from "./routers/invites.ts";
import { limitsRouter } from "./routers/limits.ts";
import { usersRouter } from "./routers/users.ts";
import { workspacesRouter } from "./routers/workspaces.ts"; // issue 12
import { createCallerFactory, router } from "./trpc.ts";

export const appRouter = router({
  auth: authRouter,
  journeys: journeysRouter,
  operate: operateRouter, // engine issue
  // admin issue
  users: usersRouter,
  invites: invitesRouter,
  credentials: credentialsRouter,
  apiKeys: apiKeysRouter,
  audit: auditRouter,
  limits: limitsRouter,
  admin: adminRouter,
  workspaces: workspacesRouter, // issue 12
  pages: pagesRouter, // issue 14
  consent: consentRouter, // issue 16: subscriptions, suppressions
  customers: customersRouter, // issue 16
  analytics: analyticsRouter, // issue 17
  migration: migrationRouter, // issue 18
  kpis: kpisRouter, // issue 17: workspace KPIs
  segments: segmentsRouter, // issue 16: saved segments
  coupons: couponsRouter, // issue 16: coupon pools
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export const createCaller = createCallerFactory(appRouter);
