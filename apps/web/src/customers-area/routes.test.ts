import { describe, expect, it } from "vitest";
import { parseHash } from "../router.tsx";
import { customersHrefs } from "./routes.ts";

describe("Customers routes (issue 16)", () => {
  it("parses the search and a profile, and round-trips ids with odd characters", () => {
    expect(parseHash("#/customers")).toEqual({ page: "customers" });
    expect(parseHash("#/customers/")).toEqual({ page: "customers" });
    expect(parseHash(customersHrefs.customer("c 1/é"))).toEqual({ page: "customer", id: "c 1/é" });
    expect(parseHash("#/customers/a/b").page).toBe("notFound");
    expect(parseHash("#/pages")).toEqual({ page: "pages" });
  });
});
