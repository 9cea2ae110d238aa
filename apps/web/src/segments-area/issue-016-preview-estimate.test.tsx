// issue 16: a size preview estimated from a random draw (counting everyone took too long) says so
// in words — "About", how many customers were drawn of how many, and the likely range — while an
// exact count reads as a plain number.
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { PreviewList } from "./SegmentEditorPage.tsx";

const sample = [{ id: "c1", externalId: "ada", email: "ada@shop.test" }];

describe("segment size preview", () => {
  it("states an estimate as one, with its draw and range", () => {
    render(
      <PreviewList
        stale={false}
        preview={{
          count: 48_210,
          sample,
          estimate: { sampled: 20_000, customers: 1_000_000, low: 46_500, high: 49_900 },
        }}
      />,
    );
    expect(screen.getByText(/^About/).textContent).toBe("About 48,210 customers");
    expect(screen.getByText(/Estimated from/).textContent?.replace(/\s+/g, " ")).toBe(
      "Estimated from 20,000 of your 1,000,000 customers, picked at random: most likely between 46,500 and 49,900. Counting everyone takes longer; once saved, the segment keeps its exact members.",
    );
    expect(screen.getByRole("link", { name: "ada" })).toBeTruthy();
  });

  it("shows an exact count without the estimate's words", () => {
    render(<PreviewList stale={false} preview={{ count: 24, sample }} />);
    expect(screen.getByText("24").parentElement?.textContent).toBe("24 customers");
    expect(screen.queryByText(/About|Estimated/)).toBeNull();
  });
});
