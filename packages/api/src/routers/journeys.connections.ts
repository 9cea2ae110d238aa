// What validation must know about the workspace's channel connections, read fresh on every check
// (not cached with the observed catalogue: a changed connection applies at once). A webhook
// connection with a URL binds webhook steps to its origin; a step calling another address is an
// error on that node, so its secret headers are never sent elsewhere (the provider refuses such a
// send too).
import type { Database } from "@postpath/db";
import { webhookOriginOf, type Keyring } from "@postpath/engine";
import type { Catalog } from "@postpath/journey";
import { workspaceCatalog } from "./journeys.catalog.ts";

export async function connectionBounds(
  db: Database,
  keyring: Keyring | undefined,
  workspaceId: string,
): Promise<Pick<Catalog, "webhookOrigin">> {
  // Without a master key no connection can be read here, nor used by a send.
  if (!keyring) return {};
  const origin = await webhookOriginOf(db, keyring, workspaceId);
  return origin === undefined ? {} : { webhookOrigin: origin };
}

/** The catalogue validate() checks a draft against: what the workspace observed, and its connections. */
export async function validationCatalog(
  db: Database,
  keyring: Keyring | undefined,
  workspaceId: string,
): Promise<Catalog> {
  const [observed, bounds] = await Promise.all([
    workspaceCatalog(db.prisma, workspaceId),
    connectionBounds(db, keyring, workspaceId),
  ]);
  return { ...observed, ...bounds };
}
