// Issue 18: auto-layout must never put two steps on top of each other — on every gallery
// template and on random graphs (a property test over a seeded PRNG: fast-check is not a
// dependency of apps/web; a failing seed is printed and can be replayed).
import { JourneyDraft, stepCatalog, templates } from "@postpath/journey";
import { describe, expect, it } from "vitest";
import { thankYouDraft } from "../test/fixtures.ts";
import type { DraftEdge, DraftNode } from "./draft.ts";
import { NODE_HEIGHT, NODE_WIDTH, autoLayout, boxOf } from "./layout.ts";
import { branchesOf } from "./steps/index.ts";
import { draftToFlow } from "./toFlow.ts";
import type { StepNode } from "./types.ts";

type Box = { id: string; x: number; y: number; width: number; height: number };

function boxes(nodes: StepNode[]): Box[] {
  return nodes.map((n) => ({ id: n.id, ...n.position, ...boxOf(n) }));
}

/** Pairs of boxes that share any area (touching edges is not overlapping). */
function overlaps(list: Box[]): [string, string][] {
  const found: [string, string][] = [];
  for (let i = 0; i < list.length; i++)
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i]!;
      const b = list[j]!;
      if (
        a.x < b.x + b.width &&
        b.x < a.x + a.width &&
        a.y < b.y + b.height &&
        b.y < a.y + a.height
      )
        found.push([a.id, b.id]);
    }
  return found;
}

async function laidOut(draft: JourneyDraft): Promise<StepNode[]> {
  const { nodes, edges } = draftToFlow(draft);
  return autoLayout(nodes, edges);
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const nonTriggers = stepCatalog.filter((s) => s.family !== "trigger" && s.type !== "flow.goal");

/**
 * A random journey: a trigger, then `size` steps of random types; each branch of each step leads
 * to a random later step (so branches converge, the case that overlapped before), sometimes to
 * nothing, and with `loops` sometimes back to an earlier step. Random sizes may be measured.
 */
function randomDraft(seed: number, loops: boolean): JourneyDraft {
  const rand = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const size = 1 + Math.floor(rand() * 30);
  const nodes: DraftNode[] = [
    { id: "t", type: "trigger.event", position: { x: 0, y: 0 }, data: { event: "e", filters: [] } },
  ];
  for (let i = 1; i <= size; i++) {
    const step = pick(nonTriggers);
    nodes.push({
      id: `n${i}`,
      type: step.type,
      // Everything starts piled up at a few positions.
      position: { x: Math.floor(rand() * 3) * 10, y: Math.floor(rand() * 3) * 10 },
      data: structuredClone(step.defaults),
    });
  }
  const edges: DraftEdge[] = [];
  nodes.forEach((node, i) => {
    for (const branch of branchesOf(node.type, node.data)) {
      if (i + 1 >= nodes.length || rand() < 0.15) continue;
      const back = loops && i > 1 && rand() < 0.1;
      const target = back
        ? 1 + Math.floor(rand() * (i - 1))
        : i + 1 + Math.floor(rand() * Math.min(4, nodes.length - i - 1));
      edges.push({
        id: `e${i}-${branch.id}`,
        source: node.id,
        sourceHandle: branch.id,
        target: nodes[target]!.id,
      });
    }
  });
  return JourneyDraft.parse({ schemaVersion: 1, settings: {}, nodes, edges });
}

describe("auto-layout (ELK layered)", () => {
  it.each(templates.map((t) => [t.name, t] as const))(
    "never overlaps steps: template %s",
    async (_name, template) => {
      const nodes = await laidOut(template.draft);
      expect(nodes).toHaveLength(template.draft.nodes.length);
      expect(overlaps(boxes(nodes))).toEqual([]);
    },
  );

  it("never overlaps steps on random graphs (converging branches, loops, loose steps)", async () => {
    const base = 0x18_04;
    for (let run = 0; run < 150; run++) {
      const seed = base + run;
      const draft = randomDraft(seed, run % 3 === 0);
      const { nodes, edges } = draftToFlow(draft);
      // Some steps measured taller or wider than the card (older drafts, bigger fonts).
      const rand = prng(seed ^ 0x5eed);
      const measured = nodes.map((n) =>
        rand() < 0.2 ? { ...n, measured: { width: NODE_WIDTH + 40, height: NODE_HEIGHT + 60 } } : n,
      );
      const laid = await autoLayout(measured, edges);
      const found = overlaps(boxes(laid));
      expect(found, `seed ${seed}: ${JSON.stringify(found)}`).toEqual([]);
    }
  });

  it("places a condition split's converging branches and an exit side by side", async () => {
    // The case from issue 18: yes and no both lead to the same step, with an exit beside it.
    const draft = JourneyDraft.parse({
      ...thankYouDraft,
      edges: [
        ...thankYouDraft.edges.filter((e) => e.source !== "big-order" && e.source !== "email"),
        { id: "y", source: "big-order", sourceHandle: "yes", target: "email" },
        { id: "n", source: "big-order", sourceHandle: "no", target: "email" },
        { id: "x", source: "email", sourceHandle: "next", target: "exit" },
      ],
    });
    const nodes = await laidOut(draft);
    expect(overlaps(boxes(nodes))).toEqual([]);
    const y = (id: string) => nodes.find((n) => n.id === id)!.position.y;
    expect(y("big-order")).toBeLessThan(y("email"));
    expect(y("email")).toBeLessThan(y("exit"));
  });
});
