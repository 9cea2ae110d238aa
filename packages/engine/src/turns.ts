// Turns on the event loop for CPU work of the worker (advance(), message rendering). The worker
// usually shares its process with the HTTP server (RUN_WORKER=true), and run jobs become ready
// together: one batched read answers a few hundred of them, and their continuations then run back
// to back as microtasks, with no I/O in between. Each costs little, but a few hundred templates
// near their render limit (TEMPLATE_LIMITS.step, 50 ms) would hold the loop for seconds.
//
// `cpuTurn()` lets work go on at once while the current stretch of CPU work is under SLICE_MS;
// after that, callers wait and are let through one per turn of the event loop (setImmediate), so
// the server polls its sockets between any two of them. A request waits at most about one step.

/** CPU time that may pass without the event loop polling I/O, when nothing is waiting. */
export const SLICE_MS = 10;

const waiting: (() => void)[] = [];
let sliceStart = performance.now();
let scheduled = false;

function nextTurn(): void {
  if (scheduled) return;
  scheduled = true;
  // An immediate queued now runs after the current burst of microtasks; one queued from inside
  // it runs in the next turn, after the loop has polled I/O.
  setImmediate(() => {
    scheduled = false;
    sliceStart = performance.now();
    waiting.shift()?.();
    if (waiting.length > 0) nextTurn();
  });
}

/** Resolves when this caller may use the CPU (at once, or after the loop has polled I/O). */
export function cpuTurn(): Promise<void> {
  if (waiting.length === 0 && performance.now() - sliceStart < SLICE_MS) {
    nextTurn(); // the next turn starts a new slice
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    nextTurn();
  });
}
