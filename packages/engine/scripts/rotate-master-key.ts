// pnpm credentials:rotate-master-key — rotates the master key that wraps channel-credential data keys.
//
// With a key file (POSTPATH_MASTER_KEY_FILE, or the development default .postpath/master.key):
// generates a new key, writes "new + old" to the file, re-wraps every data key under the new key,
// then leaves only the new key in the file.
// With POSTPATH_MASTER_KEY: put the new key first ("new,old"), run this to re-wrap, then drop "old".
// Ciphertexts never change; only the wrapped data keys do. Safe to re-run.
import fs from "node:fs";
import path from "node:path";
import { loadEnvOrExit } from "@postpath/config";
import {
  generateMasterKeyText,
  keyringFromText,
  loadKeyring,
  rewrapAll,
} from "../src/credentials/index.ts";
import { createLogger } from "../src/logger.ts";
import { openAppDatabase, REPO_ROOT } from "../src/runtime.ts";

const env = loadEnvOrExit();
const log = createLogger(env.LOG_LEVEL === "info" ? "warn" : env.LOG_LEVEL);

async function main() {
  const { keyring, source } = loadKeyring(env, REPO_ROOT);
  const db = await openAppDatabase(env, log);
  try {
    if (env.POSTPATH_MASTER_KEY) {
      const res = await rewrapAll(db, keyring);
      process.stdout.write(
        `Re-wrapped ${res.rewrapped} of ${res.total} credential data keys under ${keyring.current.id} (the first key of POSTPATH_MASTER_KEY).\nOnce every process runs with the new key first, remove the old key(s) from POSTPATH_MASTER_KEY.\n`,
      );
      return;
    }
    const file = path.resolve(source);
    const oldText = fs.readFileSync(file, "utf8").trim();
    const newKey = generateMasterKeyText();
    const both = `${newKey}\n${oldText}\n`;
    const next = keyringFromText(both, file);
    writeAtomic(file, both);
    const res = await rewrapAll(db, next);
    writeAtomic(file, `${newKey}\n`);
    process.stdout.write(
      `New master key ${next.current.id} written to ${file} (was ${keyring.current.id}); re-wrapped ${res.rewrapped} of ${res.total} credential data keys.\nRestart running servers and workers so they load the new key.\n`,
    );
  } finally {
    await db.close();
  }
}

function writeAtomic(file: string, text: string) {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `Master key rotation failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
