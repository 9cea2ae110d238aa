// issue 16: the Coupons area — `#/coupons` (the coupon pools) and `#/coupons/<id>` (one pool:
// add codes, rename, delete).
export type CouponsRoute = { page: "coupons" } | { page: "couponPool"; id: string };

/** `path` without the leading '#' and trailing slashes; null when it is not a Coupons route. */
export function parseCouponsPath(path: string): CouponsRoute | null {
  if (path === "/coupons") return { page: "coupons" };
  const match = /^\/coupons\/([^/]+)$/.exec(path);
  if (match?.[1]) return { page: "couponPool", id: decodeURIComponent(match[1]) };
  return null;
}

export const couponsHrefs = {
  coupons: () => "#/coupons",
  pool: (id: string) => `#/coupons/${encodeURIComponent(id)}`,
};
