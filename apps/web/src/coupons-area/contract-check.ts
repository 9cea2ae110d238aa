// Compile-time proof that the API's `coupons` outputs fit what the Coupons area reads (contract.ts).
import type { TRPCOptionsProxy, inferOutput } from "@trpc/tanstack-react-query";
import type { AppRouter } from "../trpc.ts";
import type { AddCodesResult, CouponPoolRow } from "./contract.ts";

type Api = TRPCOptionsProxy<AppRouter>;
type Fits<Actual extends Expected, Expected> = [Actual, Expected];

export type CouponsContractCheck = [
  Fits<inferOutput<Api["coupons"]["list"]>, readonly CouponPoolRow[]>,
  Fits<inferOutput<Api["coupons"]["get"]>, CouponPoolRow>,
  Fits<inferOutput<Api["coupons"]["create"]>, { id: string }>,
  Fits<inferOutput<Api["coupons"]["rename"]>, { id: string; name: string }>,
  Fits<inferOutput<Api["coupons"]["delete"]>, { deleted: boolean }>,
  Fits<inferOutput<Api["coupons"]["addCodes"]>, AddCodesResult>,
];
