// Every step type, grouped by family, to drag onto the canvas (or add with Enter/click, for
// keyboard users: the step lands below the lowest one and is selected).
import { stepCatalog } from "@postpath/journey";
import type { StepFamily, StepType } from "./draft.ts";
import { useEditorStore } from "./store.ts";

export const PALETTE_MIME = "application/x-postpath-step";

const GROUPS: { family: StepFamily; title: string }[] = [
  { family: "trigger", title: "Triggers" },
  { family: "wait", title: "Waits" },
  { family: "split", title: "Splits" },
  { family: "action", title: "Actions" },
  { family: "flow", title: "Flow" },
];

function addBelow(type: StepType) {
  const store = useEditorStore.getState();
  const lowest = store.nodes.reduce((max, n) => Math.max(max, n.position.y), -140);
  const id = store.addStep(type, { x: 0, y: lowest + 140 });
  store.focusNode(id);
}

export function Palette({ disabled }: { disabled?: boolean }) {
  return (
    <nav className="palette" aria-label="Steps">
      <h2>Steps</h2>
      <p className="muted">Drag onto the canvas, or press Enter to add below.</p>
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
