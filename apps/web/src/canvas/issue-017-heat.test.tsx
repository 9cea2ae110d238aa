// issue 17, item 4: the live per-step figures as a heat overlay on the canvas — the marketer
// picks the figure, each card is tinted by its share of the busiest step's, screen readers get
// the figure in words, and nothing moves or changes size.
import { act, fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { thankYouDraft } from "../test/fixtures.ts";
import { heatOf } from "./heat.ts";
import { JourneyCanvas } from "./JourneyCanvas.tsx";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout.ts";
import { useEditorStore, type NodeCounts } from "./store.ts";

const c = (entered: number, sent: number, converted: number): NodeCounts => ({
  entered,
  waiting: 0,
  completed: entered,
  sent,
  failed: 0,
  converted,
});
const counts = {
  trigger: c(1000, 0, 0),
  wait: c(800, 0, 0),
  email: c(400, 400, 100),
  exit: c(400, 0, 0),
};

describe("issue 17: heat overlay", () => {
  it("shares of the busiest step per figure, conversion rate per step", () => {
    expect(heatOf(counts, "off")).toBeNull();
    expect(heatOf(null, "entered")).toBeNull();
    const entered = heatOf(counts, "entered")!;
    expect([entered.trigger!.share, entered.wait!.share, entered.email!.share]).toEqual([
      1, 0.8, 0.4,
    ]);
    const rate = heatOf(counts, "conversionRate")!;
    expect(rate.email).toEqual({ value: 0.25, share: 1, text: "25.0% converted" });
    expect(rate.trigger!.share).toBe(0);
    // No step has any: every share 0, not a division by zero.
    expect(heatOf({ a: c(0, 0, 0) }, "sent")!.a!.share).toBe(0);
  });

  it("the picker tints the cards by the chosen figure without moving or resizing them", async () => {
    const { container } = render(<JourneyCanvas draftKey="heat@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");
    expect(screen.queryByLabelText("Heat map")).toBeNull(); // no counts yet, no picker
    const transforms = () =>
      [...container.querySelectorAll<HTMLElement>(".react-flow__node")].map(
        (n) => n.style.transform,
      );
    const before = transforms();
    act(() => useEditorStore.getState().setCounts(counts));
    const card = (id: string) =>
      container.querySelector<HTMLElement>(`.react-flow__node[data-id="${id}"] .step`)!;
    expect(card("wait").classList.contains("step--heat")).toBe(false);

    fireEvent.change(screen.getByLabelText("Heat map"), { target: { value: "entered" } });
    expect(card("wait").classList.contains("step--heat")).toBe(true);
    expect(card("wait").style.getPropertyValue("--heat")).toBe("0.800");
    expect(card("trigger").style.getPropertyValue("--heat")).toBe("1.000");
    expect(card("wait").textContent).toContain("Heat: 800 entered");
    expect(screen.getByText(/darker: closer to the busiest/)).toBeTruthy();

    fireEvent.change(screen.getByLabelText("Heat map"), { target: { value: "conversionRate" } });
    expect(card("email").style.getPropertyValue("--heat")).toBe("1.000");
    expect(card("wait").style.getPropertyValue("--heat")).toBe("0.000");
    // New counts re-tint at once.
    act(() => useEditorStore.getState().setCounts({ ...counts, wait: c(800, 0, 400) }));
    expect(card("wait").style.getPropertyValue("--heat")).toBe("1.000");
    expect(card("email").style.getPropertyValue("--heat")).toBe("0.500");

    for (const el of container.querySelectorAll<HTMLElement>(".step"))
      expect([el.style.width, el.style.height]).toEqual([`${NODE_WIDTH}px`, `${NODE_HEIGHT}px`]);
    expect(transforms()).toEqual(before);

    fireEvent.change(screen.getByLabelText("Heat map"), { target: { value: "off" } });
    expect(container.querySelectorAll(".step--heat")).toHaveLength(0);
  });
});
