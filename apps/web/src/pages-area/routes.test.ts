import { describe, expect, it } from "vitest";
import { parseHash } from "../router.tsx";
import { pagesHrefs, slugFromName } from "./routes.ts";

describe("Pages routes", () => {
  it("maps #/pages and #/pages/<id>, round-tripping ids", () => {
    expect(parseHash("#/pages")).toEqual({ page: "pages" });
    expect(parseHash("#/pages/")).toEqual({ page: "pages" });
    expect(parseHash(pagesHrefs.page("a b/c"))).toEqual({ page: "landingPage", id: "a b/c" });
    expect(parseHash("#/pages/x/y")).toEqual({ page: "notFound", hash: "#/pages/x/y" });
  });

  it("suggests a page address from a name", () => {
    expect(slugFromName("Machine registration")).toBe("machine-registration");
    expect(slugFromName("  Thank you, Zoë!  ")).toBe("thank-you-zoe");
    expect(slugFromName("Ünïcödé ☕ 2026")).toBe("unicode-2026");
    expect(slugFromName("!!!")).toBe("");
    expect(slugFromName("a".repeat(79) + " b")).toBe("a".repeat(79));
  });
});
