import { validate } from "@postpath/journey";
import { beforeEach, describe, expect, it } from "vitest";
import { thankYouDraft } from "../test/fixtures.ts";
import { baseIdFor, freshId, toDraft, useEditorStore } from "./store.ts";

const store = () => useEditorStore.getState();

describe("editor store", () => {
  beforeEach(() => store().load("j1@1", thankYouDraft));

  it("round-trips the draft it loaded", () => {
    expect(toDraft(store())).toEqual({
      ...thankYouDraft,
      edges: thankYouDraft.edges.map((e) => ({ ...e, sourceHandle: e.sourceHandle ?? "next" })),
    });
  });

  it("validates on load and after every change, grouping issues by node", () => {
    expect(store().issues).toEqual(validate(toDraft(store())));
    store().addStep("action.sms", { x: 0, y: 600 });
    expect(store().issuesByNode.sms?.map((i) => i.field)).toContain("body");
    store().updateConfig("sms", { body: "Hi {{ first_name }}" });
    expect(store().issuesByNode.sms?.some((i) => i.field === "body")).toBeFalsy();
  });

  it("adds a step with its registry defaults and a readable id, selected", () => {
    const id = store().addStep("action.email", { x: 10, y: 20 });
    expect(id).toBe("email-2");
    const node = store().nodes.find((n) => n.id === id);
    expect(node?.data.config).toEqual({ subject: "", body: "", format: "html" });
    expect(node?.selected).toBe(true);
    expect(store().nodes.filter((n) => n.selected)).toHaveLength(1);
  });

  it("connects one edge per branch: connecting a branch again moves it", () => {
    store().connect({
      source: "big-order",
      sourceHandle: "yes",
      target: "exit",
      targetHandle: null,
    });
    const fromYes = store().edges.filter(
      (e) => e.source === "big-order" && e.sourceHandle === "yes",
    );
    expect(fromYes.map((e) => e.target)).toEqual(["exit"]);
    expect(store().edges).toHaveLength(thankYouDraft.edges.length);
  });

  it("undoes and redoes document changes, not selection", () => {
    store().updateConfig("wait", { amount: 5, unit: "minutes" });
    store().selectOnly("email");
    store().undo();
    expect(store().nodes.find((n) => n.id === "wait")?.data.config).toEqual({
      amount: 30,
      unit: "seconds",
    });
    store().redo();
    expect(store().nodes.find((n) => n.id === "wait")?.data.config).toEqual({
      amount: 5,
      unit: "minutes",
    });
    expect(store().future).toHaveLength(0);
  });

  it("deletes the selection with its edges, undoably", () => {
    store().selectOnly("wait");
    store().deleteSelection();
    expect(store().nodes.map((n) => n.id)).not.toContain("wait");
    expect(store().edges.some((e) => e.source === "wait" || e.target === "wait")).toBe(false);
    store().undo();
    expect(store().nodes.map((n) => n.id)).toContain("wait");
    expect(store().edges).toHaveLength(thankYouDraft.edges.length);
  });

  it("copies and pastes steps with the edges between them under new ids", () => {
    useEditorStore.setState({
      nodes: store().nodes.map((n) => ({
        ...n,
        selected: n.id === "big-order" || n.id === "email",
      })),
    });
    store().copySelection();
    store().paste();
    const ids = store().nodes.map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining(["big-order-2", "email-2"]));
    const pastedEdge = store().edges.find((e) => e.source === "big-order-2");
    expect(pastedEdge).toMatchObject({ sourceHandle: "yes", target: "email-2" });
    const original = store().nodes.find((n) => n.id === "email");
    const copy = store().nodes.find((n) => n.id === "email-2");
    expect(copy?.position).toEqual({
      x: (original?.position.x ?? 0) + 40,
      y: (original?.position.y ?? 0) + 40,
    });
    expect(copy?.data.config).toEqual(original?.data.config);
  });

  it("moves nodes with one undo step per drag", () => {
    const start = store().nodes.find((n) => n.id === "exit")?.position;
    for (const x of [160, 170, 180])
      store().onNodesChange([
        { type: "position", id: "exit", position: { x, y: 450 }, dragging: true },
      ]);
    store().onNodesChange([
      { type: "position", id: "exit", position: { x: 190, y: 450 }, dragging: false },
    ]);
    expect(store().nodes.find((n) => n.id === "exit")?.position).toEqual({ x: 190, y: 450 });
    store().undo();
    expect(store().nodes.find((n) => n.id === "exit")?.position).toEqual(start);
  });

  it("auto-layout puts every step below the one before it, as one undo step", async () => {
    const rev = store().past.length;
    await store().layout();
    expect(store().past.length).toBe(rev + 1);
    const y = (id: string) => store().nodes.find((n) => n.id === id)?.position.y ?? NaN;
    expect(y("trigger")).toBeLessThan(y("wait"));
    expect(y("wait")).toBeLessThan(y("big-order"));
    expect(y("big-order")).toBeLessThan(y("email"));
    expect(y("email")).toBe(y("exit"));
  });

  it("refuses edits when loaded read-only", () => {
    store().load("j1@1", thankYouDraft, { editable: false });
    store().updateConfig("wait", { amount: 1, unit: "days" });
    store().deleteSelection();
    store().onNodesChange([{ type: "remove", id: "wait" }]);
    expect(toDraft(store()).nodes.find((n) => n.id === "wait")?.data).toEqual({
      amount: 30,
      unit: "seconds",
    });
    expect(store().docRev).toBe(0);
  });

  it("names new steps readably", () => {
    expect(
      [
        "wait.duration",
        "wait.event",
        "split.random",
        "action.sms",
        "flow.exit",
        "trigger.segment",
      ].map((t) => baseIdFor(t as never)),
    ).toEqual(["wait", "wait-event", "split-random", "sms", "exit", "trigger"]);
  });

  it("picks fresh ids", () => {
    expect(freshId("email", new Set(["email", "email-2"]))).toBe("email-3");
    expect(freshId("sms", new Set(["email"]))).toBe("sms");
  });
});

describe("auto-layout", () => {
  it("puts a split's branches left to right in handle order", async () => {
    const draft = {
      ...thankYouDraft,
      // "no" listed first: the handle order, not the edge order, decides.
      edges: [
        ...thankYouDraft.edges.filter((e) => e.source !== "big-order"),
        { id: "n", source: "big-order", sourceHandle: "no", target: "exit" },
        { id: "y", source: "big-order", sourceHandle: "yes", target: "email" },
      ],
      nodes: thankYouDraft.nodes.map((n) => ({ ...n, position: { x: 0, y: 0 } })),
    };
    useEditorStore.getState().load("layout", draft);
    await useEditorStore.getState().layout();
    const x = (id: string) =>
      useEditorStore.getState().nodes.find((n) => n.id === id)?.position.x ?? NaN;
    expect(x("email")).toBeLessThan(x("exit"));
  });
});
