// Usage: pnpm db:migration <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that takes the schema as
// committed at HEAD to the schema in the working tree (Prisma's WASM schema engine, no download).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MIGRATIONS_DIR } from "../src/migrate.ts";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("Usage: pnpm db:migration <name>   (lower-case letters, digits and _)");
  process.exit(1);
}
const root = path.resolve(MIGRATIONS_DIR, "../..");
const before = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pp-schema-")), "schema.prisma");
fs.writeFileSync(before, execFileSync("git", ["show", "HEAD:prisma/schema.prisma"], { cwd: root }));
const sql = execFileSync(
  "npx",
  ["prisma", "migrate", "diff", "--from-schema-datamodel", before, "--to-schema-datamodel", "../../prisma/schema.prisma", "--script"],
  { env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: "/bin/true" }, encoding: "utf8" },
);
if (/^-- This is an empty migration/m.test(sql) || sql.trim() === "") {
  console.error("prisma/schema.prisma does not differ from HEAD: nothing to migrate.");
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, "migration.sql"), sql);
console.log(`Wrote ${path.relative(root, dir)}/migration.sql — review it, then commit it with the schema.`);
