import { defineConfig } from "vitest/config";

// A busy CI machine may run a test many times slower than a quiet one: the timeout is only a
// backstop against a hang, never a speed check (speed lives in bench/).
export default defineConfig({
  test: { testTimeout: 300_000, hookTimeout: 300_000, passWithNoTests: true },
});
