// The journey language for the canvas, loaded after a big journey's first draw (issue 18 item 5).
// The canvas's first-draw modules (JourneyCanvas, the store, toFlow, nodes, farLayer, layout)
// import no value from @postpath/journey or the step views: what they need of them comes from
// `languageModule.ts` through this loader, so the bundler puts the language (zod schemas of every
// step type, validation, LiquidJS) in a chunk of its own. A far-out first draw needs none of it;
// full cards, validation and editing do: the canvas draws full cards only once it is loaded
// (`useLanguage`), and the store validates once it is loaded. Where the rest of the editor
// imports the language anyway (the journey page's panels), it is loaded with them and this
// resolves at once.
import { useSyncExternalStore } from "react";
import type * as LanguageModule from "./languageModule.ts";

export type Language = typeof LanguageModule;

let loaded: Language | null = null;
let loading: Promise<Language> | null = null;
const listeners = new Set<() => void>();

/** Starts loading the language (once); resolves when it can be used. */
export function loadLanguage(): Promise<Language> {
  loading ??= import("./languageModule.ts").then((m) => {
    loaded = m;
    for (const listener of listeners) listener();
    return m;
  });
  return loading;
}

/** The language, or null while it is loading (or not asked for yet). */
export function languageIfLoaded(): Language | null {
  return loaded;
}

/** The language; only where it has been loaded (full cards, edits, validation). */
export function language(): Language {
  if (!loaded) throw new Error("The journey language is not loaded yet (loadLanguage())");
  return loaded;
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};
const snapshot = () => loaded;

/** The language for a component: null until loaded, then a re-render with it. */
export function useLanguage(): Language | null {
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
