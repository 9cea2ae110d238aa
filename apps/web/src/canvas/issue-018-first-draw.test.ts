// issue 18 item 5: a big journey's first draw does not wait for the journey language (zod schemas
// of every step type, validation, LiquidJS), which language.ts loads apart. That holds only while
// no module the canvas imports statically imports a value from @postpath/journey or from a module
// that does: this walks the canvas's static imports (not `import type`, not `import()`).
import * as journey from "@postpath/journey";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFAULT_BRANCH } from "./branches.ts";
import * as constants from "./constants.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The specifiers a module imports statically for their values. */
function staticImports(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const found: string[] = [];
  const statement = /^(?:import|export)\s+(type\s+)?([^;]*?)\s*from\s+"([^"]+)";/gms;
  for (const m of source.matchAll(statement)) {
    if (m[1]) continue; // import type / export type
    const names = m[2] ?? "";
    // `import { type A, type B } from …` brings no value either.
    const inBraces = /^\{([^}]*)\}$/.exec(names.trim());
    if (inBraces && inBraces[1]!.split(",").every((n) => /^\s*(type\s+\S+.*)?$/.test(n))) continue;
    found.push(m[3]!);
  }
  for (const m of source.matchAll(/^import\s+"([^"]+)";/gm)) found.push(m[1]!);
  return found;
}

/** Every module reached from `entry` by static value imports: the package names outside src. */
function reached(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith(".")) {
        const target = path.resolve(path.dirname(file), spec);
        if (/\.(ts|tsx)$/.test(target)) visit(target);
      } else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

describe("the canvas's first draw (issue 18 item 5)", () => {
  it("imports no value from the journey language: it loads apart (language.ts)", () => {
    const { files, packages } = reached(path.join(here, "JourneyCanvas.tsx"));
    expect([...packages].filter((p) => p.startsWith("@postpath/"))).toEqual([]);
    const rel = [...files].map((f) => path.relative(here, f));
    expect(rel).toContain("store.ts");
    expect(rel).toContain("nodes.tsx");
    expect(rel).not.toContain("languageModule.ts");
    expect(rel).not.toContain(path.join("steps", "index.ts"));
  });

  it("keeps the journey's default branch", () => {
    expect(DEFAULT_BRANCH).toBe(journey.DEFAULT_BRANCH);
  });

  it("keeps the journey language's constants (constants.ts)", () => {
    expect(constants.SEGMENTS_PATH).toBe(journey.SEGMENTS_PATH);
    expect(constants.LIFECYCLE_STAGE_PATH).toBe(journey.LIFECYCLE_STAGE_PATH);
    expect(constants.SEGMENT_OPS).toEqual(journey.SEGMENT_OPS);
    expect(constants.LIFECYCLE_OPS).toEqual(journey.LIFECYCLE_OPS);
    expect(constants.LIFECYCLE_STAGES).toEqual(journey.LIFECYCLE_STAGES);
    expect(constants.LIFECYCLE_STAGE_NAMES).toEqual(journey.LIFECYCLE_STAGE_NAMES);
  });
});

describe("the app's journey editor (issue 18 item 5)", () => {
  it("draws the canvas without the journey language: its panels load apart (editorParts.ts)", () => {
    const { files, packages } = reached(path.join(here, "..", "pages", "JourneyPage.tsx"));
    expect([...packages].filter((p) => p.startsWith("@postpath/"))).toEqual([]);
    const rel = [...files].map((f) => path.relative(here, f));
    expect(rel).toContain("JourneyCanvas.tsx");
    expect(rel).toContain("segments.ts"); // the catalogue's loader, with the constants here
    expect(rel).toContain(path.join("panels", "testRunStore.ts"));
    expect(rel).not.toContain(path.join("..", "pages", "editorParts.ts"));
    expect(rel).not.toContain("Palette.tsx");
    expect(rel).not.toContain(path.join("panels", "StepPanel.tsx"));
  });
});
