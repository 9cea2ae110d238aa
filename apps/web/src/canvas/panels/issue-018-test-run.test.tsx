// Issue 18: the test run's timeline speaks the canvas's language — step names as drawn, decisions
// in words, messages with their subject and text — and the canvas notes do too.
import { JourneyDraft } from "@postpath/journey";
import { fireEvent, render, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import { thankYouDraft } from "../../test/fixtures.ts";
import { useEditorStore } from "../store.ts";
import { TestRunPanel } from "./TestRunPanel.tsx";
import { plainText } from "./testRunWords.ts";

const valid = JourneyDraft.parse({
  ...thankYouDraft,
  nodes: thankYouDraft.nodes.map((n) =>
    n.id === "big-order" ? { ...n, data: { ...n.data, label: "Big order?" } } : n,
  ),
  edges: [...thankYouDraft.edges, { id: "e5", source: "email", target: "exit" }],
});

describe("issue 18: test run in words", () => {
  beforeEach(() => useEditorStore.getState().load("tr@1", valid));

  it("names steps as on the canvas, words decisions, and shows each message's subject and text", async () => {
    render(<TestRunPanel />);
    fireEvent.click(screen.getByRole("button", { name: "Run test" }));
    const timeline = await screen.findByRole("region", { name: "Test run timeline" });
    const lines = within(timeline)
      .getAllByRole("listitem")
      .map((li) => li.textContent ?? "");
    const text = lines.join("\n");
    // No step ids, no decision codes.
    expect(text).not.toMatch(/big-order|split\.branch|wait\.scheduled|send\.requested|email-?\d/);
    expect(text).toContain("Big order?: Took the “Yes” path → “Send email”");
    expect(text).toMatch(/Wait: Waiting 30 seconds/);
    const message = lines.find((l) => l.includes("Subject"));
    expect(message).toContain("Send email (email)");
    expect(message).toContain("Thanks Ada");
    expect(message).toContain("We hope you love it.");

    // The canvas notes (the ✓ badge's tooltip) use the same words.
    const notes = useEditorStore.getState().highlight?.notes ?? {};
    expect(notes["big-order"]?.join(" ")).toContain("Took the “Yes” path → “Send email”");
  });

  it("shows an HTML body as its text", () => {
    expect(
      plainText("<html><head><style>p{}</style></head><body><p>Hi <b>Ada</b></p></body></html>"),
    ).toBe("Hi Ada");
    expect(plainText("Plain {{ text }}")).toBe("Plain {{ text }}");
  });
});
