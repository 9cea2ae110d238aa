// The first module of the server's worker thread (worker-thread.ts). Node 20 does not apply
// tsx's loader (registered by `tsx src/main.ts` for the main thread) to worker threads, so this
// plain JavaScript file registers it, then loads the TypeScript entry named in workerData.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
