// Compile-time proof that the API's outputs fit what the pages read (see contract.ts).
// A failure here names the procedure whose shape changed on the server.
import type { TRPCOptionsProxy, inferOutput } from "@trpc/tanstack-react-query";
import type { AppRouter } from "../trpc.ts";
import type { NodeCounts } from "../canvas/store.ts";
import type {
  JourneyDetail,
  JourneyListItem,
  Me,
  SessionUser,
  WorkspaceCatalog,
} from "./contract.ts";
import type { CustomerRun, OperateStatus } from "./operate.ts";

type Api = TRPCOptionsProxy<AppRouter>;
type Fits<Actual extends Expected, Expected> = [Actual, Expected];

export type ContractCheck = [
  Fits<inferOutput<Api["auth"]["me"]>, Me | null>,
  Fits<inferOutput<Api["auth"]["signIn"]>, { user: SessionUser }>,
  Fits<inferOutput<Api["journeys"]["list"]>, readonly JourneyListItem[]>,
  Fits<inferOutput<Api["journeys"]["get"]>, JourneyDetail>,
  Fits<inferOutput<Api["journeys"]["catalog"]>, WorkspaceCatalog>,
  Fits<inferOutput<Api["operate"]["pause"]>, OperateStatus>,
  Fits<inferOutput<Api["operate"]["resume"]>, OperateStatus>,
  Fits<inferOutput<Api["operate"]["stop"]>, OperateStatus>,
  Fits<inferOutput<Api["operate"]["nodeCounts"]>, Record<string, NodeCounts>>,
  Fits<inferOutput<Api["operate"]["customerRuns"]>, readonly CustomerRun[]>,
];
