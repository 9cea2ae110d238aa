/** The drag-and-drop type of a step dragged from the palette (its data: the step type). */
export const PALETTE_MIME = "application/x-postpath-step";
