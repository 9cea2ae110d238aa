// Test-file hooks around the engine harness (vitest's afterEach: only for test files; the benches
// import harness.ts outside vitest).
import { afterEach } from "vitest";
import { startEngineHarness, type EngineHarness, type EngineHarnessOptions } from "./harness.ts";

/**
 * For a test file's top level: a start function whose harnesses are closed after each test, the
 * last started first (a second workspace's harness shares the first one's database: `db`).
 * `defaults` go to every start, under the call's own options.
 */
export function harnessesClosedAfterEach(
  defaults: EngineHarnessOptions = {},
): (opts?: EngineHarnessOptions) => Promise<EngineHarness> {
  const started: EngineHarness[] = [];
  afterEach(async () => {
    for (const x of started.reverse()) await x.close();
    started.length = 0;
  });
  return async (opts = {}) => {
    const x = await startEngineHarness({ ...defaults, ...opts });
    started.push(x);
    return x;
  };
}
