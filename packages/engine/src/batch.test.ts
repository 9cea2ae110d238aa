import { describe, expect, it } from "vitest";
import { Batcher } from "./batch.ts";

describe("Batcher", () => {
  it("answers what concurrent callers ask in one turn with one round trip, each caller its own answer", async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>(
      (xs) => {
        calls.push(xs);
        return Promise.resolve(xs.map((x) => x * 10));
      },
      { max: 100, concurrency: 1 },
    );
    const out = await Promise.all([1, 2, 3, 4].map((x) => b.push(x)));
    expect(out).toEqual([10, 20, 30, 40]);
    expect(calls).toEqual([[1, 2, 3, 4]]);
  });

  it("splits at max and queues what arrives while a round trip is in flight", async () => {
    const calls: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<number, number>(
      async (xs) => {
        calls.push(xs);
        if (calls.length === 1) await gate;
        return xs;
      },
      { max: 2, concurrency: 1 },
    );
    const first = [b.push(1), b.push(2), b.push(3)];
    await new Promise((r) => setImmediate(r));
    const later = [b.push(4), b.push(5)];
    release();
    expect(await Promise.all([...first, ...later])).toEqual([1, 2, 3, 4, 5]);
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("keeps items with a shared key out of the same batch, in arrival order", async () => {
    const calls: string[][] = [];
    const b = new Batcher<{ id: string; key: string }, string>(
      (xs) => {
        calls.push(xs.map((x) => x.id));
        return Promise.resolve(xs.map((x) => x.id));
      },
      { max: 10, concurrency: 1, keys: (x) => [x.key] },
    );
    await Promise.all([
      b.push({ id: "a1", key: "a" }),
      b.push({ id: "b1", key: "b" }),
      b.push({ id: "a2", key: "a" }),
      b.push({ id: "c1", key: "c" }),
      b.push({ id: "a3", key: "a" }),
    ]);
    expect(calls).toEqual([["a1", "b1", "c1"], ["a2"], ["a3"]]);
  });

  it("a failing batch is retried item by item, so only the bad item fails", async () => {
    const b = new Batcher<number, number>(
      (xs) => {
        if (xs.includes(13)) return Promise.reject(new Error("unlucky"));
        return Promise.resolve(xs.map((x) => x + 1));
      },
      { max: 10, concurrency: 2 },
    );
    const results = await Promise.allSettled([1, 13, 2].map((x) => b.push(x)));
    expect(results).toEqual([
      { status: "fulfilled", value: 2 },
      { status: "rejected", reason: new Error("unlucky") },
      { status: "fulfilled", value: 3 },
    ]);
  });
});
