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
  // A connection this process cannot open (its master key is missing) cannot send either; the
  // check is then left to the provider at send time rather than failing a save that went through.
  const origin = await webhookOriginOf(db, keyring, workspaceId).catch(() => undefined);
  return origin === undefined ? {} : { webhookOrigin: origin };
}

/** issue 16: the ids of the workspace's saved segments, read fresh (a segment made a moment ago
 * is no "unknown segment"); a trigger or split naming another id is a warning. */
export async function segmentIds(
  db: Database,
  workspaceId: string,
): Promise<{ segments: string[] }> {
  const rows = await db.prisma.segment.findMany({ where: { workspaceId }, select: { id: true } });
  return { segments: rows.map((r) => r.id) };
}

/** issue 16: the workspace's landing pages (by address: name, published or not) and coupon pools
 * (names and ids), read fresh like the segments; a PURL step naming a page it lacks or has not
 * published, or a coupon step drawing from a pool it lacks, is a warning. */
export async function pagesAndPools(
  db: Database,
  workspaceId: string,
): Promise<Required<Pick<Catalog, "pages" | "couponPools">>> {
  const [pages, pools] = await Promise.all([
    db.prisma.page.findMany({
      where: { workspaceId },
      select: { slug: true, name: true, publishedVersion: true },
    }),
    db.prisma.couponPool.findMany({ where: { workspaceId }, select: { id: true, name: true } }),
  ]);
  return {
    pages: Object.fromEntries(
      pages.map((p) => [p.slug, { name: p.name, published: p.publishedVersion !== null }]),
    ),
    couponPools: pools.flatMap((p) => [p.name, p.id]),
  };
}

/** The catalogue validate() checks a draft against: what the workspace observed, and its connections. */
export async function validationCatalog(
  db: Database,
  keyring: Keyring | undefined,
  workspaceId: string,
): Promise<Catalog> {
  const [observed, bounds, segments, resources] = await Promise.all([
    workspaceCatalog(db.prisma, workspaceId),
    connectionBounds(db, keyring, workspaceId),
    segmentIds(db, workspaceId),
    pagesAndPools(db, workspaceId),
  ]);
  return { ...observed, ...bounds, ...segments, ...resources };
}
