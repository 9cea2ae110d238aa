// The workspace's catalogue (`journeys.catalog`: customer attributes and event properties it has
// observed), loaded once per editor and kept in the editor store, where validation checks template
// variables against it (warnings) and the step panel lists the variables.
import type { Catalog } from "@postpath/journey";
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import type { WorkspaceCatalog } from "../api/contract.ts";
import { useTRPC } from "../trpc.ts";
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
  };
}

/** Loads the catalogue into the editor store. Until it arrives (or if it fails) nothing is checked. */
export function useWorkspaceCatalog(): void {
  const trpc = useTRPC();
  const { data } = useQuery({
    ...trpc.journeys.catalog.queryOptions(),
    staleTime: CATALOG_STALE_MS,
  });
  const setCatalog = useEditorStore((s) => s.setCatalog);
  useEffect(() => {
    setCatalog(toCatalog(data));
  }, [data, setCatalog]);
}
