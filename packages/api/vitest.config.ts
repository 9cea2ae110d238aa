import { defineConfig } from "vitest/config";

// Waits inside tests follow progress (waitFor fails when nothing moved for 2 min): the timeout is
// only a backstop against a hang, never a speed check (speed lives in bench/).
export default defineConfig({ test: { testTimeout: 600_000, hookTimeout: 600_000 } });
