// Validation in a worker (validateWorker.ts), for a big journey's first check after its first
// draw (store.ts `validateAfterPaint`). Where there is no worker (jsdom, or it failed to start)
// the answer is null and the store validates on the main thread, as before.
import type { Catalog, JourneyDraft, ValidationIssue } from "@postpath/journey";

type Answer = { id: number; issues?: ValidationIssue[]; error?: string };

let worker: Worker | null | undefined;
let asked = 0;
const waiting = new Map<number, (issues: ValidationIssue[] | null) => void>();

function start(): Worker | null {
  if (worker !== undefined) return worker;
  if (typeof Worker === "undefined") return (worker = null);
  try {
    worker = new Worker(new URL("./validateWorker.ts", import.meta.url), { type: "module" });
  } catch {
    return (worker = null);
  }
  worker.onmessage = (event: MessageEvent<Answer>) => {
    const answer = event.data;
    const done = waiting.get(answer.id);
    waiting.delete(answer.id);
    done?.(answer.issues ?? null);
  };
  // A worker that cannot load (or crashed): every question open gets null, and none is asked again.
  worker.onerror = () => {
    worker = null;
    for (const done of waiting.values()) done(null);
    waiting.clear();
  };
  return worker;
}

/** `validate(draft, catalog)` in the worker; null when it cannot be done there. */
export function validateOffThread(
  draft: JourneyDraft,
  catalog: Catalog,
): Promise<ValidationIssue[] | null> {
  const w = start();
  if (!w) return Promise.resolve(null);
  const id = ++asked;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    w.postMessage({ id, draft, catalog });
  });
}
