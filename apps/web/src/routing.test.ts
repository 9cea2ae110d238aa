import { describe, expect, it } from "vitest";
import { hrefs, parseHash } from "./routing.ts";

describe("parseHash", () => {
  it("maps the hash to a page", () => {
    expect(parseHash("")).toEqual({ page: "journeys" });
    expect(parseHash("#/journeys/")).toEqual({ page: "journeys" });
    expect(parseHash("#/journeys/abc123")).toEqual({ page: "journey", id: "abc123" });
    expect(parseHash("#/settings")).toEqual({ page: "notFound", hash: "#/settings" });
  });

  it("round-trips ids through hrefs", () => {
    expect(parseHash(hrefs.journey("a b/c"))).toEqual({ page: "journey", id: "a b/c" });
  });
});
