import { describe, expect, it } from "vitest";
import { thankYouDraft } from "../test/fixtures.ts";
import { draftToFlow, labelledNode, withExtraBranches } from "./toFlow.ts";

describe("draftToFlow", () => {
  it("gives each step the node type of its family, at its stored position", () => {
    const { nodes } = draftToFlow(thankYouDraft);
    expect(nodes.map((n) => [n.id, n.type, n.data.stepType, n.position])).toEqual([
      ["trigger", "trigger", "trigger.event", { x: 0, y: 0 }],
      ["wait", "wait", "wait.duration", { x: 0, y: 150 }],
      ["big-order", "split", "split.condition", { x: 0, y: 300 }],
      ["email", "action", "action.email", { x: -150, y: 450 }],
      ["exit", "flow", "flow.exit", { x: 150, y: 450 }],
    ]);
  });

  it("labels each node for assistive technology with its step and summary", () => {
    const { nodes } = draftToFlow(thankYouDraft);
    expect(nodes.find((n) => n.id === "email")?.ariaLabel).toBe(
      "Send email step, Email: Thanks {{ first_name }}",
    );
    expect(nodes.find((n) => n.id === "wait")?.ariaLabel).toBe("Wait step, Wait 30 seconds");
  });

  it("connects edges to their branch handle, unnamed ones to the default 'next'", () => {
    const { edges } = draftToFlow(thankYouDraft);
    expect(edges.map((e) => [e.source, e.sourceHandle, e.target])).toEqual([
      ["trigger", "next", "wait"],
      ["wait", "next", "big-order"],
      ["big-order", "yes", "email"],
      ["big-order", "no", "exit"],
    ]);
  });

  it("keeps node data plain JSON", () => {
    const { nodes } = draftToFlow(thankYouDraft);
    for (const node of nodes) expect(JSON.parse(JSON.stringify(node.data))).toEqual(node.data);
    expect(nodes.find((n) => n.id === "trigger")?.data.config).toEqual({
      event: "purchase",
      filters: [],
    });
  });

  it("adds a handle for a branch an edge uses but the step does not name, so no edge dangles", () => {
    const { nodes } = draftToFlow({
      ...thankYouDraft,
      edges: [
        ...thankYouDraft.edges,
        { id: "e5", source: "big-order", sourceHandle: "maybe", target: "exit" },
      ],
    });
    expect(nodes.find((n) => n.id === "big-order")?.data.extraBranches).toEqual(["maybe"]);
    expect(nodes.find((n) => n.id === "wait")?.data.extraBranches).toEqual([]);
  });
});

describe("draftToFlow, a big journey's first draw (issue 18)", () => {
  it("leaves labels and unnamed branch handles for later, and adds them back", () => {
    const draft = {
      ...thankYouDraft,
      edges: [
        ...thankYouDraft.edges,
        { id: "e5", source: "big-order", sourceHandle: "maybe", target: "exit" },
      ],
    };
    const { nodes, edges } = draftToFlow(draft, { later: true });
    expect(nodes.map((n) => n.ariaLabel)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(nodes.every((n) => n.data.extraBranches.length === 0)).toBe(true);

    const completed = withExtraBranches(nodes, edges)!;
    expect(completed.find((n) => n.id === "big-order")?.data.extraBranches).toEqual(["maybe"]);
    // Only the step that needs a handle is a new object.
    expect(completed.filter((n, i) => n !== nodes[i]).map((n) => n.id)).toEqual(["big-order"]);
    expect(withExtraBranches(completed, edges)).toBeNull();
    expect(labelledNode(nodes[3]!).ariaLabel).toBe(
      "Send email step, Email: Thanks {{ first_name }}",
    );
    expect(labelledNode(nodes[3]!)).toBe(labelledNode(nodes[3]!));
  });
});
