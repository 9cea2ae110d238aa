export {
  appRouter,
  createCaller,
  type AppRouter,
  type RouterInputs,
  type RouterOutputs,
} from "./router.ts";
export type { AccountSettings, ApiContext, SessionUser } from "./trpc.ts";
export {
  SESSION_COOKIE,
  SESSION_TTL_MS,
  cachedUserForSession, // issue 15
  onApiKeyRevoked, // issue 15: the ingest key cache
  hashPassword,
  readCookie,
  userForSession,
} from "./auth.ts";
export { seedDemo, DEMO_JOURNEY_NAME, DEMO_PASSWORD } from "./seed.ts";
export { LIST_FIGURES_MAX_AGE_MS } from "./routers/journeys.list.ts"; // issue 15
export { recordAudit } from "./audit.ts"; // admin issue
export { IdText, NUL_MESSAGE, SURROGATE_MESSAGE, Text } from "./zod.ts"; // issue 12
