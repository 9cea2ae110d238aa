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
    },
  },
  build: { outDir: "dist", sourcemap: true },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    testTimeout: 30_000,
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
