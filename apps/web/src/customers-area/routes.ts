// issue 16: the Customers area — `#/customers` (search) and `#/customers/<id>` (a profile); its
// routes are in router.tsx.

export const customersHrefs = {
  customers: () => "#/customers",
  customer: (id: string) => `#/customers/${encodeURIComponent(id)}`,
};
