import { describe, expect, it } from "vitest";
import { parseHash } from "../routing.ts";
import { customersHrefs, parseCustomersPath } from "./routes.ts";

describe("Customers routes (issue 16)", () => {
  it("parses the search and a profile, and round-trips ids with odd characters", () => {
    expect(parseHash("#/customers")).toEqual({ page: "customers" });
    expect(parseHash("#/customers/")).toEqual({ page: "customers" });
    expect(parseHash(customersHrefs.customer("c 1/é"))).toEqual({ page: "customer", id: "c 1/é" });
    expect(parseCustomersPath("/customers/a/b")).toBeNull();
    expect(parseCustomersPath("/pages")).toBeNull();
  });
});
