// Compile-time proof that the API's outputs fit what the pages read (see contract.ts).
// A failure here names the procedure whose shape changed on the server.
import type { TRPCOptionsProxy, inferOutput } from "@trpc/tanstack-react-query";
import type { AppRouter } from "../trpc.ts";
import type { JourneyDetail, JourneyListItem, Me, SessionUser } from "./contract.ts";

type Api = TRPCOptionsProxy<AppRouter>;
type Fits<Actual extends Expected, Expected> = [Actual, Expected];

export type ContractCheck = [
  Fits<inferOutput<Api["auth"]["me"]>, Me | null>,
  Fits<inferOutput<Api["auth"]["signIn"]>, { user: SessionUser }>,
  Fits<inferOutput<Api["journeys"]["list"]>, readonly JourneyListItem[]>,
  Fits<inferOutput<Api["journeys"]["get"]>, JourneyDetail>,
];
