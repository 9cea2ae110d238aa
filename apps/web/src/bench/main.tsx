// The canvas alone, for bench/canvas-frames.ts: renders the draft the benchmark puts on
// `window.__BENCH_DRAFT__` (before the page loads) in the real editor canvas, production build.
import "@xyflow/react/dist/style.css";
import "../styles.css";
import type { JourneyDraft } from "@postpath/journey";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { JourneyCanvas } from "../canvas/JourneyCanvas.tsx";

declare global {
  interface Window {
    __BENCH_DRAFT__?: JourneyDraft;
  }
}

const root = document.getElementById("root");
const draft = window.__BENCH_DRAFT__;
if (!root) throw new Error("bench.html has no #root element");
if (!draft) throw new Error("window.__BENCH_DRAFT__ is not set");

createRoot(root).render(
  <StrictMode>
    <main className="main" style={{ height: "100vh" }}>
      <JourneyCanvas draftKey="bench" draft={draft} editable />
    </main>
  </StrictMode>,
);
