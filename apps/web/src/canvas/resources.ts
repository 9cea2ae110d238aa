// issue 16 (pickers, not free text): what a step's form picks from besides the catalogue — the
// workspace's landing pages for the PURL step and its coupon pools for the coupon step. Asked only
// while such a step is open, and again when the window regains focus (a page published in another
// tab is then listed as published).
import type { StepType } from "@postpath/journey";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../trpc.ts";
import type { CouponPoolChoice, PageChoice } from "./pickers.ts";

const FRESH_MS = 15_000;

export function useStepResources(type: StepType): {
  pages: readonly PageChoice[] | undefined;
  couponPools: readonly CouponPoolChoice[] | undefined;
} {
  const trpc = useTRPC();
  const pages = useQuery({
    ...trpc.pages.list.queryOptions(),
    staleTime: FRESH_MS,
    enabled: type === "action.purl",
  });
  const couponPools = useQuery({
    ...trpc.journeys.couponPools.queryOptions(),
    staleTime: FRESH_MS,
    enabled: type === "action.coupon",
  });
  return { pages: pages.data, couponPools: couponPools.data };
}
