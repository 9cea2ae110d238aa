// Usage: pnpm db:migration <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes the schema as of
// the newest migration (its schema.prisma snapshot) to prisma/schema.prisma, using Prisma's WASM
// schema engine (no engine download), plus a new snapshot for the next migration to diff from.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { MIGRATIONS_DIR, readMigrations } from "../src/migrate.ts";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("Usage: pnpm db:migration <name>   (lower-case letters, digits and _)");
  process.exit(1);
}
const schema = path.resolve(MIGRATIONS_DIR, "../schema.prisma");
const latest = readMigrations().at(-1);
const before = latest ? path.join(MIGRATIONS_DIR, latest.name, "schema.prisma") : null;
if (before && !fs.existsSync(before)) {
  console.error(
    `${path.relative(process.cwd(), before)} is missing: every migration keeps the schema it produced.`,
  );
  process.exit(1);
}
const sql = execFileSync(
  "npx",
  [
    "prisma",
    "migrate",
    "diff",
    ...(before ? ["--from-schema-datamodel", before] : ["--from-empty"]),
    "--to-schema-datamodel",
    schema,
    "--script",
  ],
  { env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true" }, encoding: "utf8" },
);
if (/^-- This is an empty migration/m.test(sql) || sql.trim() === "") {
  console.error("prisma/schema.prisma matches the newest migration: nothing to migrate.");
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, "migration.sql"), sql);
fs.copyFileSync(schema, path.join(dir, "schema.prisma"));
console.log(
  `Wrote ${path.relative(process.cwd(), dir)}/migration.sql — review it, then commit it with the schema.`,
);
