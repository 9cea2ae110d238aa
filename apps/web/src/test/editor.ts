// Shared by the editor's jsdom tests: select a step once the editor has drawn and checked the
// journey (its Problems tab is there), as a click on the node would.
import { act, screen, waitFor } from "@testing-library/react";
import { useEditorStore } from "../canvas/store.ts";

export async function openStep(id: string): Promise<void> {
  await screen.findByRole("tab", { name: /^Problems/ });
  act(() => useEditorStore.getState().focusNode(id));
  // On a busy machine the journey can still be (re)drawn after its tabs show — a load draws its
  // steps unselected (a CI run beside two CPU-bound processes lost the selection once): focus
  // again until the step is the selected one.
  await waitFor(() => {
    if (useEditorStore.getState().nodes.find((n) => n.id === id)?.selected) return;
    useEditorStore.getState().focusNode(id);
    throw new Error(`step ${id} is not selected yet`);
  });
}
