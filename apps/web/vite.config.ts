import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The API server (apps/server) listens on :3000 in development; the built app is served by it
// from apps/web/dist in production, so every request stays same-origin and the session cookie flows.
const apiServer = "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/trpc": apiServer,
      "/v1": apiServer,
      "/healthz": apiServer,
      "/exports": apiServer, // issue 14: print-run downloads
    },
  },
  // Source maps hold the original sources: built only when asked for (POSTPATH_SOURCEMAP=true),
  // and the server serves *.map files only outside production (issue 12).
  build: { outDir: "dist", sourcemap: process.env.POSTPATH_SOURCEMAP === "true" },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    testTimeout: 300_000, // a backstop against a hang on a busy machine, not a speed check
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
