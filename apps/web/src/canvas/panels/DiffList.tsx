// What changed between two plans, step by step (the API's journeys.diff.ts result), as the
// publish dialog and the version view show it.
import { stepModule } from "@postpath/journey";
import type { StepType } from "../draft.ts";

type StepRef = { id: string; type: StepType };

export type PlanDiff = {
  added: readonly StepRef[];
  removed: readonly StepRef[];
  changed: readonly (StepRef & { fields: readonly string[] })[];
  rewired: readonly { id: string; branch: string; from: string | null; to: string | null }[];
  settings: readonly string[];
  same: boolean;
};

const label = (s: StepRef) => `${stepModule(s.type).label} “${s.id}”`;

/** `showAdded` false: against nothing published yet every step is new, which says nothing. */
export function DiffList({ diff: d, showAdded = true }: { diff: PlanDiff; showAdded?: boolean }) {
  return (
    <ul className="diff" aria-label="Changes">
      {showAdded &&
        d.added.map((s) => (
          <li key={`a-${s.id}`} className="diff--added">
            Added {label(s)}
          </li>
        ))}
      {d.removed.map((s) => (
        <li key={`r-${s.id}`} className="diff--removed">
          Removed {label(s)}
        </li>
      ))}
      {d.changed.map((s) => (
        <li key={`c-${s.id}`} className="diff--changed">
          Changed {label(s)}: {s.fields.join(", ")}
        </li>
      ))}
      {d.rewired.map((r) => (
        <li key={`w-${r.id}-${r.branch}`}>
          Reconnected “{r.id}” ({r.branch}): {r.from ?? "end"} → {r.to ?? "end"}
        </li>
      ))}
      {d.settings.map((key) => (
        <li key={`s-${key}`}>Changed setting: {key}</li>
      ))}
    </ul>
  );
}
