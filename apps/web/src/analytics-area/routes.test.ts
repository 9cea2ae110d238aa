import { describe, expect, it } from "vitest";
import { parseHash } from "../router.tsx";
import { analyticsHrefs } from "./routes.ts";

describe("analytics routes", () => {
  it("parses a journey's analytics and round-trips its href", () => {
    expect(parseHash("#/journeys/j%201/analytics")).toEqual({
      page: "journeyAnalytics",
      id: "j 1",
    });
    expect(parseHash(analyticsHrefs.journey("j 1"))).toEqual({
      page: "journeyAnalytics",
      id: "j 1",
    });
    expect(parseHash("#/journeys/j1/analytics/")).toEqual({ page: "journeyAnalytics", id: "j1" });
    expect(parseHash("#/journeys/j1")).toEqual({ page: "journey", id: "j1" });
    expect(parseHash("#/journeys//analytics").page).toBe("notFound");
  });
});
