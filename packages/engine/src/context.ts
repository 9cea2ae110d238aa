import type { Database } from "@postpath/db";
import type { Logger } from "./logger.ts";
import type { ProviderResolver } from "./providers.ts";
import type { EngineQueues } from "./queues.ts";

/** Everything the engine's job handlers need; built once per process. */
export interface EngineContext {
  db: Database;
  queues: EngineQueues;
  log: Logger;
  providers: ProviderResolver;
  /** The clock; tests may replace it. */
  now(): number;
}
