// Compile-time proof that the API's `analytics` outputs fit what the analytics page reads.
import type { TRPCOptionsProxy, inferOutput } from "@trpc/tanstack-react-query";
import type { AppRouter } from "../trpc.ts";
import type { DayFigures, Experiment, StepsAnswer } from "./contract.ts";

type Api = TRPCOptionsProxy<AppRouter>;
type Fits<Actual extends Expected, Expected> = [Actual, Expected];

export type AnalyticsContractCheck = [
  Fits<inferOutput<Api["analytics"]["steps"]>, StepsAnswer>,
  Fits<inferOutput<Api["analytics"]["daily"]>, DayFigures[]>,
  Fits<inferOutput<Api["analytics"]["experiments"]>, Experiment[]>,
];
