// Shared by the editor's jsdom tests: select a step once the editor has drawn and checked the
// journey (its Problems tab is there), as a click on the node would.
import { act, screen } from "@testing-library/react";
import { useEditorStore } from "../canvas/store.ts";

export async function openStep(id: string): Promise<void> {
  await screen.findByRole("tab", { name: /^Problems/ });
  act(() => useEditorStore.getState().focusNode(id));
}
