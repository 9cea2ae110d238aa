// Compile-time proof that the API's `pages` outputs fit what the Pages area reads (contract.ts).
import type { TRPCOptionsProxy, inferOutput } from "@trpc/tanstack-react-query";
import type { AppRouter } from "../trpc.ts";
import type { PageDetail, PageFunnelData, PageListItem } from "./contract.ts";

type Api = TRPCOptionsProxy<AppRouter>;
type Fits<Actual extends Expected, Expected> = [Actual, Expected];

export type PagesContractCheck = [
  Fits<inferOutput<Api["pages"]["list"]>, readonly PageListItem[]>,
  Fits<inferOutput<Api["pages"]["get"]>, PageDetail>,
  Fits<inferOutput<Api["pages"]["create"]>, { id: string }>,
  Fits<inferOutput<Api["pages"]["save"]>, { revision: number }>,
  Fits<inferOutput<Api["pages"]["publish"]>, { version: number }>,
  Fits<inferOutput<Api["pages"]["funnel"]>, PageFunnelData>,
];
