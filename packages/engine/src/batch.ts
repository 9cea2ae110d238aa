/**
 * Micro-batching for the worker's hot path. A worker runs many jobs concurrently; each one asks
 * for "its" row or "its" commit, and the batcher turns what was asked for in the same turn of the
 * event loop (plus whatever queued up while the previous round trip was in flight) into one
 * round trip. Callers still see one promise per item.
 *
 * `keys` lets items exclude each other from one batch (two transitions of the same run, two
 * updates of the same customer): a conflicting item waits for the next batch, in arrival order.
 * When a whole batch fails, every item is retried on its own, so one bad item fails only itself.
 */
export interface BatcherOptions<I> {
  /** Most items per round trip. */
  max: number;
  /** Round trips in flight at once. */
  concurrency: number;
  keys?: (item: I) => readonly string[];
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: BatcherOptions<I>,
  ) {}

  push(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.concurrency || this.queue.length === 0) return;
    this.scheduled = true;
    // setImmediate: everything the concurrent jobs ask for in this turn joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private take(): Pending<I, O>[] {
    const { max, keys } = this.opts;
    if (!keys) return this.queue.splice(0, max);
    const taken: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    const used = new Set<string>();
    for (const p of this.queue) {
      const ks = taken.length < max ? keys(p.item) : null;
      if (ks && !ks.some((k) => used.has(k))) {
        for (const k of ks) used.add(k);
        taken.push(p);
      } else {
        // Later items must not overtake an earlier one with the same key.
        for (const k of keys(p.item)) used.add(k);
        rest.push(p);
      }
    }
    this.queue = rest;
    return taken;
  }

  private async flush(): Promise<void> {
    const batch = this.take();
    if (batch.length === 0) return;
    this.inFlight++;
    this.schedule(); // a second round trip may start with what is left
    try {
      await this.settle(batch);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  private async settle(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await this.run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(out[i] as O));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // Isolate the failure: each item on its own.
      await Promise.all(batch.map((p) => this.settle([p])));
    }
  }
}
