import { describe, expect, it } from "vitest";
// eslint-disable-next-line no-restricted-imports -- this test runs the CLI as a user would, in a child process
import { execFileSync } from "node:child_process";

describe("journey CLI", () => {
  const cwd = `${import.meta.dirname}/..`;
  const cli = (...args: string[]): string =>
    execFileSync("node_modules/.bin/tsx", ["src/cli.ts", ...args], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, INIT_CWD: cwd },
    });

  it("simulates a journey file with a customer and events", () => {
    const out = cli(
      "simulate",
      "examples/machine-registration.journey.json",
      "--customer",
      "examples/customer.json",
      "--events",
      "examples/machine-registration.events.json",
    );
    expect(out).toContain("2025-05-08T08:00:00.000Z  registered  event.arrived");
    expect(out).toContain("subject: Thank you, Anna!");
    expect(out).toContain(
      "Status: completed; path: purchase → purl → discount → invite → registered → thanks → done",
    );
  });

  it("validates gallery templates and prints JSON timelines", () => {
    expect(cli("validate", "template:ab-test")).toContain("The journey is valid.");
    const json = JSON.parse(
      cli(
        "simulate",
        "template:anniversary",
        "--customer",
        "examples/customer.json",
        "--start",
        "2025-01-01",
        "--json",
      ),
    ) as { entered: boolean };
    // The example customer has no registration date, so the anniversary never starts.
    expect(json.entered).toBe(false);
  });
});
