import { JourneyDraft } from "@postpath/journey";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { thankYouDraft } from "../test/fixtures.ts";
import { JourneyCanvas } from "./JourneyCanvas.tsx";

function nodeElement(container: HTMLElement, id: string): HTMLElement {
  const el = container.querySelector<HTMLElement>(`.react-flow__node[data-id="${id}"]`);
  if (!el) throw new Error(`node ${id} was not drawn`);
  return el;
}

describe("JourneyCanvas", () => {
  it("draws every step of the draft with its type label and summary", async () => {
    const { container } = render(<JourneyCanvas draftKey="j1@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");

    expect(container.querySelectorAll(".react-flow__node")).toHaveLength(
      thankYouDraft.nodes.length,
    );
    expect(nodeElement(container, "trigger").textContent).toContain("Event trigger");
    expect(nodeElement(container, "wait").textContent).toContain("Wait 30 seconds");
    expect(nodeElement(container, "email").textContent).toContain("Email: Thanks {{ first_name }}");
    expect(nodeElement(container, "exit").textContent).toContain("Exit journey");
    expect(nodeElement(container, "big-order").querySelector(".step--split")).not.toBeNull();
  });

  it("gives a split one labelled source handle per branch, and triggers no target handle", async () => {
    const { container } = render(<JourneyCanvas draftKey="j1@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");

    const split = nodeElement(container, "big-order");
    const sources = [...split.querySelectorAll<HTMLElement>(".react-flow__handle.source")];
    expect(sources.map((h) => h.dataset.handleid)).toEqual(["yes", "no"]);
    expect(sources.map((h) => h.getAttribute("aria-label"))).toEqual([
      "Condition split branch: Yes",
      "Condition split branch: No",
    ]);
    expect(split.textContent).toContain("Yes");

    const trigger = nodeElement(container, "trigger");
    expect(trigger.querySelectorAll(".react-flow__handle.target")).toHaveLength(0);
    expect(trigger.querySelectorAll(".react-flow__handle.source")).toHaveLength(1);
    expect(
      nodeElement(container, "exit").querySelectorAll(".react-flow__handle.source"),
    ).toHaveLength(0);
  });

  it("gives a goal an optional output and no input: its event is how a run gets there", async () => {
    const { container } = render(
      <JourneyCanvas
        draftKey="goal@1"
        draft={JourneyDraft.parse({
          schemaVersion: 1,
          settings: {},
          nodes: [
            {
              id: "g",
              type: "flow.goal",
              position: { x: 0, y: 0 },
              data: { event: "review_left", filters: [] },
            },
          ],
          edges: [],
        })}
      />,
    );
    await screen.findByText("Goal: review_left");
    const goal = nodeElement(container, "g");
    expect(goal.querySelectorAll(".react-flow__handle.target")).toHaveLength(0);
    expect(
      goal.querySelectorAll(".step__branch--optional .react-flow__handle.source"),
    ).toHaveLength(1);
  });

  it("replaces the drawing when another journey is shown", async () => {
    const { container, rerender } = render(<JourneyCanvas draftKey="j1@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");

    rerender(
      <JourneyCanvas
        draftKey="j2@1"
        draft={JourneyDraft.parse({
          schemaVersion: 1,
          settings: {},
          nodes: [
            {
              id: "t",
              type: "trigger.segment",
              position: { x: 0, y: 0 },
              data: { conditions: [{ property: "vip", op: "eq", value: true }] },
            },
          ],
          edges: [],
        })}
      />,
    );
    await screen.findByText("Segment: vip = true");
    expect(
      [...container.querySelectorAll<HTMLElement>(".react-flow__node")].map((n) => n.dataset.id),
    ).toEqual(["t"]);
  });
});
