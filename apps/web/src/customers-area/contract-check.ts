// Compile-time proof that the API's `customers` outputs fit what the Customers area reads.
import type { TRPCOptionsProxy, inferOutput } from "@trpc/tanstack-react-query";
import type { AppRouter } from "../trpc.ts";
import type {
  CustomerProfile,
  RenderedMessage,
  RunsPage,
  SearchPage,
  TimelinePage,
} from "./contract.ts";

type Api = TRPCOptionsProxy<AppRouter>;
type Fits<Actual extends Expected, Expected> = [Actual, Expected];

export type CustomersContractCheck = [
  Fits<inferOutput<Api["customers"]["search"]>, SearchPage>,
  Fits<inferOutput<Api["customers"]["get"]>, CustomerProfile>,
  Fits<inferOutput<Api["customers"]["timeline"]>, TimelinePage>,
  Fits<inferOutput<Api["customers"]["runs"]>, RunsPage>,
  Fits<inferOutput<Api["customers"]["message"]>, RenderedMessage>,
  Fits<inferOutput<Api["customers"]["erase"]>, { erased: true }>,
];
