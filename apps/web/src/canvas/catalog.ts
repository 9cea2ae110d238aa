// The workspace's catalogue (`journeys.catalog`: customer attributes and event properties it has
// observed), loaded once per editor and kept in the editor store, where validation checks template
// variables against it (warnings) and the step panel lists the variables. The whole answer (with
// kinds of value, examples and event counts) is kept for the name pickers (issue 16).
import type { Catalog } from "@postpath/journey";
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { create } from "zustand";
import type { WorkspaceCatalog } from "../api/contract.ts";
import { useTRPC } from "../trpc.ts";
import { useWorkspaceSegments } from "./segments.ts";
import { useEditorStore } from "./store.ts";

/** As long as the server caches it. */
const CATALOG_STALE_MS = 60_000;

/** The part validate() reads (the API adds the customer's built-in fields for display). */
export function toCatalog(data: WorkspaceCatalog | undefined): Catalog {
  if (!data) return {};
  return {
    ...(data.attributes ? { attributes: data.attributes } : {}),
    ...(data.eventProperties ? { eventProperties: data.eventProperties } : {}),
    ...(data.webhookOrigin ? { webhookOrigin: data.webhookOrigin } : {}),
    ...(data.segments ? { segments: data.segments } : {}), // issue 16: "unknown segment"
    ...(data.pages ? { pages: data.pages } : {}), // issue 16: unknown or unpublished page
    ...(data.couponPools ? { couponPools: data.couponPools } : {}), // issue 16: unknown pool
  };
}

/** The whole `journeys.catalog` answer, for the pickers; undefined until it arrives. */
export const useCatalogDetails = create<{ workspace: WorkspaceCatalog | undefined }>(() => ({
  workspace: undefined,
}));

/** Loads the catalogue into the editor store. Until it arrives (or if it fails) nothing is checked. */
export function useWorkspaceCatalog(): void {
  const trpc = useTRPC();
  const { data } = useQuery({
    ...trpc.journeys.catalog.queryOptions(),
    staleTime: CATALOG_STALE_MS,
  });
  useWorkspaceSegments(); // issue 16: the segment and stage pickers, names in summaries
  const setCatalog = useEditorStore((s) => s.setCatalog);
  useEffect(() => {
    setCatalog(toCatalog(data));
    useCatalogDetails.setState({ workspace: data });
  }, [data, setCatalog]);
}
