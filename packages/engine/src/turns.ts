// Turns on the event loop for CPU work of the worker (advance(), message rendering). The worker
// usually shares its process with the HTTP server (RUN_WORKER=true), and run jobs become ready
// together: one batched read answers a few hundred of them, and their continuations then run back
// to back as microtasks, with no I/O in between. Each costs little, but a few hundred templates
// near their render limit (TEMPLATE_LIMITS.step, 50 ms) would hold the loop for seconds.
//
// `cpuTurn()` lets work go on at once while the current stretch of CPU work is under SLICE_MS;
// after that, callers wait for the next turn of the event loop (setImmediate), so the server polls
// its sockets in between. Each turn lets waiting callers through one after another — the next one
// once the previous one's synchronous work is done — until that turn has used SLICE_MS; a request
// waits at most about one slice plus one step.
//
// Letting one caller through per turn (as this did at first) also split the worker's batches:
// at 10,000 due timers a second the commits carried ~6 transitions each instead of ~100, and
// Postgres spent its core on per-statement overhead (issue 15, item 3).

/** CPU time that may pass without the event loop polling I/O. */
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
    release();
  });
}

/**
 * Lets the first waiting caller go on. Its continuation is queued as a microtask now, so a
 * microtask queued after it runs once that continuation has reached its next await: then the
 * next caller goes on if the slice has time left, else the rest wait for the next turn.
 */
function release(): void {
  const next = waiting.shift();
  if (!next) return;
  next();
  queueMicrotask(() => {
    if (waiting.length === 0)
      nextTurn(); // the next turn starts a new slice
    else if (performance.now() - sliceStart < SLICE_MS) release();
    else nextTurn();
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
