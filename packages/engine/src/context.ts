import type { OutboundPolicy } from "@postpath/channels";
import type { Database } from "@postpath/db";
import type { Keyring } from "./credentials/keyring.ts";
import type { Logger } from "./logger.ts";
import type { ProviderResolver } from "./providers.ts";
import type { EngineQueues, JobRetry } from "./queues.ts";
import type { TimerSettings } from "./timers.ts";

/** Everything the engine's job handlers need; built once per process. */
export interface EngineContext {
  db: Database;
  queues: EngineQueues;
  log: Logger;
  providers: ProviderResolver;
  /** Provider failures: attempts per message and the first backoff (exponential). */
  sendRetry: { attempts: number; backoffMs: number };
  /** Retries of event, run, timer and housekeeping jobs (capped exponential; see queues.ts). */
  jobRetry: JobRetry;
  /** Where people reach the app (PURL links). */
  publicUrl: string;
  /** Private hosts provider requests may reach (OUTBOUND_ALLOW_HOSTS); everything else public only. */
  outbound: OutboundPolicy;
  /** How waits are scheduled: their own delayed job, or a shared bucket job (timers.ts). */
  timers: TimerSettings;
  /** issue 16: the master keyring; signs unsubscribe links (absent: a key of this process). */
  keyring?: Keyring;
  /** The clock; tests may replace it. */
  now(): number;
}
