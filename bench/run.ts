// Benchmark runner: `pnpm --filter @postpath/bench bench <name> [args]` runs ./<name>.ts's default
// export; without a name it lists the benchmarks. Benchmarks print figures; nothing here asserts.
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

type Benchmark = { default: (args: string[]) => void | Promise<void> };

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter(
    (f) =>
      f.endsWith(".ts") &&
      f !== "run.ts" &&
      !f.startsWith("_") &&
      !f.endsWith(".d.ts") &&
      !f.endsWith(".test.ts"),
  )
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  if (name) console.error(`No benchmark "${name}".`);
  console.log(
    `Usage: pnpm --filter @postpath/bench bench <name> [args]\nBenchmarks: ${available.join(", ")}`,
  );
  process.exitCode = name ? 2 : 0;
} else {
  const mod = (await import(`./${name}.ts`)) as Benchmark;
  await mod.default(args);
}
