// Group commit, the mechanism (issue 15 ingest, issue 14 page visits): callers push groups of
// items; while a statement is in flight the next callers queue, and the queue goes out as one
// combined call. A group is settled all or nothing: when a combined call fails, each group is
// tried again on its own, so one bad group fails only itself and an outage fails every group.

export interface BatcherOptions {
  /** Flush as soon as this many items are queued (and a flush slot is free). */
  maxItems: number;
  /** Otherwise flush this long after the first item was queued (ms; 0: on the next turn). */
  lingerMs: number;
  /** Combined calls in flight at once per process. */
  concurrency: number;
}

interface Group<T, R> {
  items: T[];
  resolve: (results: R[]) => void;
  reject: (err: unknown) => void;
}

export class GroupBatcher<T, R> {
  private queue: Group<T, R>[] = [];
  private queued = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;

  /** `commit` answers one result per item, in order. */
  constructor(
    private readonly commit: (items: T[]) => Promise<R[]>,
    private readonly opts: BatcherOptions,
  ) {}

  /** Settles once the group's items are committed (their results in order). */
  push(items: T[]): Promise<R[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.inFlight >= this.opts.concurrency) return;
    if (this.queued >= this.opts.maxItems) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.opts.lingerMs);
    }
  }

  private take(): Group<T, R>[] {
    const taken: Group<T, R>[] = [];
    let n = 0;
    while (
      this.queue.length &&
      (n === 0 || n + this.queue[0]!.items.length <= this.opts.maxItems)
    ) {
      const g = this.queue.shift()!;
      n += g.items.length;
      taken.push(g);
    }
    this.queued -= n;
    return taken;
  }

  private flush(): void {
    if (this.inFlight >= this.opts.concurrency) return;
    const groups = this.take();
    if (groups.length === 0) return;
    this.inFlight++;
    this.schedule(); // another slot may take what is left
    void this.settle(groups).finally(() => {
      this.inFlight--;
      this.schedule();
    });
  }

  private async settle(groups: Group<T, R>[]): Promise<void> {
    try {
      const results = await this.commit(groups.flatMap((g) => g.items));
      let at = 0;
      for (const g of groups) {
        g.resolve(results.slice(at, at + g.items.length));
        at += g.items.length;
      }
    } catch (err) {
      if (groups.length === 1) {
        groups[0]!.reject(err);
        return;
      }
      // Isolate the failure: each group on its own (one bad value must not cost the others).
      await Promise.all(groups.map((g) => this.settle([g])));
    }
  }
}

/** One value per key object, made on first use: a process's group commit per engine context. */
export function onePer<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    let v = made.get(key);
    if (v === undefined) {
      v = make(key);
      made.set(key, v);
    }
    return v;
  };
}
