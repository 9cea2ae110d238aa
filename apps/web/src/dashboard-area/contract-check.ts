// Compile-time proof that the API's `kpis.workspace` output fits what the dashboard reads.
import type { TRPCOptionsProxy, inferOutput } from "@trpc/tanstack-react-query";
import type { AppRouter } from "../trpc.ts";
import type { WorkspaceKpis } from "./contract.ts";

type Api = TRPCOptionsProxy<AppRouter>;
type Fits<Actual extends Expected, Expected> = [Actual, Expected];

export type DashboardContractCheck = [Fits<inferOutput<Api["kpis"]["workspace"]>, WorkspaceKpis>];
