// cpuTurn (turns.ts): waiting callers go on in groups per turn of the event loop while the turn's
// slice lasts (the worker's batches stay whole: issue 15, item 3), and the loop still polls I/O
// between slices of CPU work (issue 12: a batch of slow steps cannot hold the server).
import { describe, expect, it } from "vitest";
import { cpuTurn, SLICE_MS } from "./turns.ts";

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* CPU work */
  }
}

/** Counts turns of the event loop (one setImmediate per turn) until `done` settles. */
async function turnsUntil(done: Promise<unknown>): Promise<number> {
  let turns = 0;
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    await new Promise((r) => setImmediate(r));
    turns++;
  }
  return turns;
}

describe("cpuTurn", () => {
  it("lets many quick callers through in the same turn once the slice is spent", async () => {
    await cpuTurn();
    spin(SLICE_MS + 5); // the slice is spent: the callers below wait for the next turn
    const order: number[] = [];
    const callers = Array.from({ length: 100 }, (_, i) =>
      cpuTurn().then(() => {
        order.push(i);
      }),
    );
    const turns = await turnsUntil(Promise.all(callers));
    expect(order).toEqual(Array.from({ length: 100 }, (_, i) => i)); // in arrival order
    // One caller per turn took 100 turns; each of these takes microseconds.
    expect(turns).toBeLessThan(10);
  });

  it("polls the event loop between slices of slow callers", async () => {
    await cpuTurn();
    spin(SLICE_MS + 5);
    const turnOf: number[] = [];
    let turn = 0;
    const ticking = { on: true };
    void (async () => {
      while (ticking.on) {
        await new Promise((r) => setImmediate(r));
        turn++;
      }
    })();
    // Each caller holds the CPU for more than half a slice: at most two go on per turn.
    await Promise.all(
      Array.from({ length: 6 }, () =>
        cpuTurn().then(() => {
          turnOf.push(turn);
          spin(SLICE_MS * 0.6);
        }),
      ),
    );
    ticking.on = false;
    const perTurn = new Map<number, number>();
    for (const t of turnOf) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(2);
    expect(perTurn.size).toBeGreaterThanOrEqual(3);
  });
});
