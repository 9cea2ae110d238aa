// Preloaded into the landing-page bench's server (NODE_OPTIONS=--import): the main thread's
// event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution). On SIGUSR2 it writes
// what it saw since the last SIGUSR2 (p50/p99/max ms) to $BENCH_LOOP_DELAY_FILE.<pid> and starts
// over, so the bench reads one phase at a time. Inert without that variable.
import fs from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";

const file = process.env.BENCH_LOOP_DELAY_FILE;
if (file && isMainThread) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  process.on("SIGUSR2", () => {
    const out = { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    fs.writeFileSync(`${file}.${process.pid}`, JSON.stringify(out));
    h.reset();
  });
}
