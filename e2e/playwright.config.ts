// Playwright drives the real app (apps/server serving apps/web/dist) in Debian's Chromium.
// global-setup.ts starts the server on a fresh database and sets E2E_BASE_URL; this file is
// evaluated again in each worker, after that, so `baseURL` is known there.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "./tests",
  outputDir: "test-results",
  globalSetup: "./global-setup.ts",
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  // One retry on CI, reported as "flaky" by Playwright (shared 2-core machines); locally a failure is a failure.
  retries: process.env.CI ? 1 : 0,
  // Budgets against a hang, not speed checks: CI shares 2 cores with the other packages' tests.
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [["list"], ["html", { outputFolder: "playwright-report", open: "never" }]],
  use: {
    baseURL: process.env.E2E_BASE_URL,
    browserName: "chromium",
    viewport: { width: 1440, height: 900 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
