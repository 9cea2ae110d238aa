// issue 16: the Customers area — `#/customers` (search) and `#/customers/<id>` (a profile).
export type CustomersRoute = { page: "customers" } | { page: "customer"; id: string };

/** `path` without the leading '#' and trailing slashes; null when it is not a Customers route. */
export function parseCustomersPath(path: string): CustomersRoute | null {
  if (path === "/customers") return { page: "customers" };
  const match = /^\/customers\/([^/]+)$/.exec(path);
  if (match?.[1]) return { page: "customer", id: decodeURIComponent(match[1]) };
  return null;
}

export const customersHrefs = {
  customers: () => "#/customers",
  customer: (id: string) => `#/customers/${encodeURIComponent(id)}`,
};
