// Issue 18 item 4: canvas fixes found when the builder was tried as a new user would.
import { JourneyDraft } from "@postpath/journey";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import { thankYouDraft } from "../test/fixtures.ts";
import { JourneyCanvas, onEditorShortcut } from "./JourneyCanvas.tsx";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout.ts";
import { Palette } from "./Palette.tsx";
import { toDraft, useEditorStore } from "./store.ts";

const store = () => useEditorStore.getState();

function nodeElement(container: HTMLElement, id: string): HTMLElement {
  const el = container.querySelector<HTMLElement>(`.react-flow__node[data-id="${id}"]`);
  if (!el) throw new Error(`node ${id} was not drawn`);
  return el;
}

/** The editor as JourneyPage lays it out: shortcuts handled around the palette and canvas. */
function Editor({ draft }: { draft: JourneyDraft }) {
  return (
    <div className="editor" onKeyDown={onEditorShortcut}>
      <Palette />
      <JourneyCanvas draftKey="issue-18@1" draft={draft} editable />
    </div>
  );
}

const edgeIds = () =>
  toDraft(store())
    .edges.map((e) => e.id)
    .sort();

describe("issue 18: overlays never change a step's size", () => {
  it("draws every card at the fixed size, with counts and a test run on top, and moves nothing", async () => {
    const { container } = render(<JourneyCanvas draftKey="ov@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");
    const cards = () => [...container.querySelectorAll<HTMLElement>(".step")];
    const sizes = () => cards().map((c) => [c.style.width, c.style.height]);
    const transforms = () =>
      [...container.querySelectorAll<HTMLElement>(".react-flow__node")].map(
        (n) => n.style.transform,
      );
    const before = transforms();
    expect(sizes()).toEqual(cards().map(() => [`${NODE_WIDTH}px`, `${NODE_HEIGHT}px`]));

    act(() => {
      store().setCounts({
        email: {
          entered: 1200,
          waiting: 3,
          completed: 1100,
          sent: 1190,
          failed: 7,
          converted: 300,
          uncertain: 2,
        },
        wait: { entered: 1300, waiting: 40, completed: 1250, sent: 0, failed: 0, converted: 0 },
      });
      store().setHighlight({
        path: ["trigger", "wait", "big-order", "email"],
        notes: {
          trigger: ["Entered"],
          wait: ["Waited 30 seconds"],
          "big-order": ["Yes: total 120 is more than 100"],
          email: ["Sent: Thanks Ada"],
        },
      });
    });

    const email = nodeElement(container, "email");
    // The figures in one line, in full in the tooltip; the test run's notes in a badge's tooltip.
    const counts = email.querySelector<HTMLElement>(".step__counts");
    expect(counts?.title).toContain("2 unconfirmed");
    expect(counts?.title).toContain("1190 sent");
    expect(email.querySelector<HTMLElement>(".step__visited-badge")?.title).toBe(
      "Sent: Thanks Ada",
    );
    expect(email.querySelector("ol")).toBeNull();
    expect(sizes()).toEqual(cards().map(() => [`${NODE_WIDTH}px`, `${NODE_HEIGHT}px`]));
    expect(transforms()).toEqual(before);
    expect(toDraft(store()).nodes.map((n) => n.position)).toEqual(
      thankYouDraft.nodes.map((n) => n.position),
    );
  });

  it("puts no aria-label on elements whose role forbids one (handles, badges)", async () => {
    const { container } = render(<JourneyCanvas draftKey="ax@1" draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");
    act(() =>
      useEditorStore.setState({
        issuesByNode: {
          email: [{ nodeId: "email", field: "subject", message: "Write a subject" }],
        },
      } as never),
    );
    await waitFor(() => expect(container.querySelector(".step__issues")).not.toBeNull());
    // Inside the steps (React Flow's own node wrapper has role="group", which allows a label).
    const labelled = [...container.querySelectorAll(".react-flow__node [aria-label]")].filter(
      (el) => !el.getAttribute("role"),
    );
    expect(labelled.map((el) => el.className)).toEqual([]);
    expect(container.querySelector(".step__issues")?.textContent).toContain("1 problem");
  });
});

describe("issue 18: deleting and undoing", () => {
  beforeEach(() => {
    useEditorStore.setState({ loadedKey: null });
  });

  it("Delete removes a step with its connections, focus stays on the canvas, and one Ctrl+Z brings all back", async () => {
    const { container } = render(<Editor draft={thankYouDraft} />);
    await screen.findByText("Event: purchase");
    const before = edgeIds();
    const wait = nodeElement(container, "wait");
    act(() => store().selectOnly("wait"));
    wait.focus();
    fireEvent.keyDown(wait, { key: "Delete", code: "Delete" });
    await waitFor(() => expect(store().nodes.some((n) => n.id === "wait")).toBe(false));
    expect(edgeIds()).toEqual(["e3", "e4"]);
    expect(store().past).toHaveLength(1);

    // The step's element is gone; the focus moved to the canvas, inside the editor.
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("canvas")));
    fireEvent.keyDown(document.activeElement!, { key: "z", ctrlKey: true });
    expect(store().nodes.some((n) => n.id === "wait")).toBe(true);
    expect(edgeIds()).toEqual(before);
    expect(store().past).toHaveLength(0);
  });

  it("one undo restores a step removed by the store together with its edges", () => {
    store().load("u@1", thankYouDraft);
    store().removeElements(["big-order"], []);
    expect(edgeIds()).toEqual(["e1"]);
    store().undo();
    expect(edgeIds()).toEqual(["e1", "e2", "e3", "e4"]);
  });
});

describe("issue 18: adding from the palette with Enter", () => {
  const openBranch = JourneyDraft.parse({
    ...thankYouDraft,
    edges: thankYouDraft.edges.filter((e) => e.id !== "e4"),
  });

  it("connects the new step to the selected step's first free branch, as one undo step", async () => {
    const { container } = render(<Editor draft={openBranch} />);
    await screen.findByText("Event: purchase");
    act(() => store().selectOnly("big-order"));
    const split = store().nodes.find((n) => n.id === "big-order")!;

    // Enter on a button is a click.
    fireEvent.click(screen.getByRole("button", { name: "Send SMS" }));
    await waitFor(() => expect(store().nodes.some((n) => n.id === "sms")).toBe(true));
    const edge = toDraft(store()).edges.find((e) => e.target === "sms");
    expect(edge).toMatchObject({ source: "big-order", sourceHandle: "no" });
    const sms = store().nodes.find((n) => n.id === "sms")!;
    expect(sms.selected).toBe(true);
    expect(sms.position.y).toBeGreaterThanOrEqual(split.position.y + NODE_HEIGHT);
    // Not on top of the email on the yes branch.
    const email = store().nodes.find((n) => n.id === "email")!;
    expect(
      Math.abs(email.position.x - sms.position.x) >= NODE_WIDTH ||
        Math.abs(email.position.y - sms.position.y) >= NODE_HEIGHT,
    ).toBe(true);
    expect(nodeElement(container, "sms")).toBeTruthy();

    store().undo();
    expect(store().nodes.some((n) => n.id === "sms")).toBe(false);
    expect(toDraft(store()).edges.some((e) => e.target === "sms")).toBe(false);
  });

  it("adds below the lowest step, unconnected, when no step is selected", async () => {
    render(<Editor draft={openBranch} />);
    await screen.findByText("Event: purchase");
    act(() => store().selectOnly(null));
    fireEvent.click(screen.getByRole("button", { name: "Send SMS" }));
    await waitFor(() => expect(store().nodes.some((n) => n.id === "sms")).toBe(true));
    expect(toDraft(store()).edges.some((e) => e.target === "sms")).toBe(false);
  });
});
