// Every step type, grouped by family, to drag onto the canvas (or add with Enter/click, for
// keyboard users: the step lands below the selected step, connected from its first free branch,
// or below the lowest step when none is selected; it becomes the selection).
import { stepCatalog } from "@postpath/journey";
import { PALETTE_MIME } from "./dnd.ts";
import type { StepFamily, StepType } from "./draft.ts";
import { NODE_HEIGHT, NODE_WIDTH } from "./layout.ts";
import { DEFAULT_BRANCH, branchesOf } from "./steps/index.ts";
import { useEditorStore } from "./store.ts";
import type { StepNode } from "./types.ts";

// Kept in dnd.ts: the canvas's drop handler reads it without loading the palette (and the
// journey language it lists).
export { PALETTE_MIME } from "./dnd.ts";

const GROUPS: { family: StepFamily; title: string }[] = [
  { family: "trigger", title: "Triggers" },
  { family: "wait", title: "Waits" },
  { family: "split", title: "Splits" },
  { family: "action", title: "Actions" },
  { family: "flow", title: "Flow" },
];

const GAP_X = 40;
const GAP_Y = 60;

/** Triggers start runs and goals are reached by their event: nothing connects into them. */
function takesIncoming(type: StepType): boolean {
  return !type.startsWith("trigger.") && type !== "flow.goal";
}

/** The selected step's first branch with no connection yet, and its index among the branches. */
function freeBranch(node: StepNode): { id: string; index: number } | null {
  const store = useEditorStore.getState();
  const used = new Set(
    store.edges.filter((e) => e.source === node.id).map((e) => e.sourceHandle ?? DEFAULT_BRANCH),
  );
  const branches = branchesOf(node.data.stepType, node.data.config);
  const index = branches.findIndex((b) => !used.has(b.id));
  const branch = branches[index];
  return branch ? { id: branch.id, index } : null;
}

/** Moves `x` right until a card there would not overlap any step. */
function freeSpot(nodes: StepNode[], x: number, y: number): { x: number; y: number } {
  const hits = (px: number) =>
    nodes.some(
      (n) =>
        Math.abs(n.position.x - px) < NODE_WIDTH + GAP_X / 2 &&
        Math.abs(n.position.y - y) < NODE_HEIGHT + GAP_Y / 2,
    );
  let px = x;
  while (hits(px)) px += NODE_WIDTH + GAP_X;
  return { x: px, y };
}

export function addBelow(type: StepType) {
  const store = useEditorStore.getState();
  const picked = store.nodes.filter((n) => n.selected);
  const source = picked.length === 1 ? picked[0] : undefined;
  const branch = source && takesIncoming(type) ? freeBranch(source) : null;
  let id: string;
  if (source && branch) {
    const spot = freeSpot(
      store.nodes,
      source.position.x + branch.index * (NODE_WIDTH + GAP_X),
      source.position.y + NODE_HEIGHT + GAP_Y,
    );
    id = store.addStep(type, spot, undefined, { source: source.id, branch: branch.id });
  } else {
    const lowest = store.nodes.reduce((max, n) => Math.max(max, n.position.y), -NODE_HEIGHT);
    id = store.addStep(type, { x: 0, y: lowest + NODE_HEIGHT + GAP_Y });
  }
  store.focusNode(id);
}

export function Palette({ disabled }: { disabled?: boolean }) {
  return (
    <nav className="palette" aria-label="Steps">
      <h2>Steps</h2>
      <p className="muted">Drag onto the canvas, or press Enter to add below the selected step.</p>
      {GROUPS.map((group) => (
        <section
          key={group.family}
          className="palette__group"
          aria-labelledby={`palette-${group.family}`}
        >
          <h3 id={`palette-${group.family}`}>{group.title}</h3>
          <ul>
            {stepCatalog
              .filter((s) => s.family === group.family)
              .map((step) => (
                <li key={step.type}>
                  <button
                    type="button"
                    className={`palette__item palette__item--${group.family}`}
                    draggable={!disabled}
                    disabled={disabled}
                    data-step-type={step.type}
                    onDragStart={(event) => {
                      event.dataTransfer.setData(PALETTE_MIME, step.type);
                      event.dataTransfer.effectAllowed = "move";
                    }}
                    onClick={() => addBelow(step.type)}
                  >
                    {step.label}
                  </button>
                </li>
              ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
