// jsdom lacks the layout APIs React Flow measures with; these stubs let it render nodes and
// handles (sizes are zero, which is all a DOM test needs).
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";
import { loadLanguage } from "../canvas/language.ts";

// findBy*/waitFor poll for up to 60 s instead of 1 s: the journey page is lazy-loaded, and on a
// machine at a load average of 20 on 2 cores a lazy import and a render took over 10 s (the
// earlier budget failed there). A backstop for a wait that never ends, not a speed check: a test
// that passes waits only as long as its page takes.
configure({ asyncUtilTimeout: 60_000 });

class ResizeObserverStub {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}

class DOMMatrixReadOnlyStub {
  m22: number;
  constructor(transform?: string) {
    const scale = /scale\(([\d.]+)\)/.exec(transform ?? "")?.[1];
    this.m22 = scale === undefined ? 1 : Number(scale);
  }
}

// The canvas loads the journey language apart (canvas/language.ts), as the journey page does
// with its panels: loaded here, a test's canvas draws and validates at once, as in the app.
await loadLanguage();

globalThis.ResizeObserver ??= ResizeObserverStub;
// cmdk (the name pickers) scrolls the highlighted option into view; jsdom has no layout.
if (!Reflect.has(Element.prototype, "scrollIntoView"))
  Object.defineProperty(Element.prototype, "scrollIntoView", { value() {}, configurable: true });
// @ts-expect-error -- a partial stand-in; React Flow reads only m22 (the zoom).
globalThis.DOMMatrixReadOnly ??= DOMMatrixReadOnlyStub;

afterEach(() => {
  cleanup();
  window.location.hash = "";
});
