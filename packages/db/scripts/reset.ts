// Usage: pnpm db:reset — drops and recreates the dev database, then applies every migration.
// With DATABASE_URL: that database's public schema is dropped. Without: the embedded folder is removed.
import fs from "node:fs";
import path from "node:path";
import { loadEnvOrExit } from "@postpath/config";
import { openDatabase } from "../src/database.ts";
import { migrate } from "../src/migrate.ts";

const env = loadEnvOrExit();
if (env.DATABASE_URL) {
  const db = await openDatabase({ url: env.DATABASE_URL });
  await db.exec(`DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;`);
  const ran = await migrate(db);
  console.log(`Reset ${db.location}: applied ${ran.length} migration(s).`);
  await db.close();
} else {
  // Relative to the repository root, like the start command resolves it.
  const dir = path.resolve(import.meta.dirname, "../../..", env.POSTPATH_DATA_DIR, "pglite");
  fs.rmSync(dir, { recursive: true, force: true });
  const db = await openDatabase({ dataDir: dir });
  const ran = await migrate(db);
  console.log(`Reset embedded database in ${dir}: applied ${ran.length} migration(s).`);
  await db.close();
}
