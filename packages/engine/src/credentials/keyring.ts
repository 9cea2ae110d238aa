// Master keys that wrap the per-credential data keys (envelope encryption). A keyring holds the
// current key (used to wrap) and older keys (still accepted to unwrap, until a rotation re-wraps
// every data key under the current one). Keys are named by a short fingerprint, never printed.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface MasterKey {
  /** sha256 fingerprint prefix, stored beside each wrapped data key. */
  id: string;
  key: Buffer;
}

export interface Keyring {
  current: MasterKey;
  /** All keys by id, the current one included. */
  byId: ReadonlyMap<string, MasterKey>;
}

export class KeyringError extends Error {
  override name = "KeyringError";
}

const KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

export function masterKeyId(key: Buffer): string {
  return `mk_${createHash("sha256").update(key).digest("hex").slice(0, 16)}`;
}

/** Parses base64 keys, current first (comma- or newline-separated). */
export function keyringFromText(text: string, source: string): Keyring {
  const parts = text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0 && !p.startsWith("#"));
  if (parts.length === 0) throw new KeyringError(`${source} holds no master key`);
  const keys = parts.map((p, i) => {
    if (!KEY_PATTERN.test(p))
      throw new KeyringError(
        `${source}: key ${i + 1} is not base64 of 32 bytes (make one with: openssl rand -base64 32)`,
      );
    const key = Buffer.from(p, "base64");
    return { id: masterKeyId(key), key };
  });
  const [current] = keys;
  if (!current) throw new KeyringError(`${source} holds no master key`);
  return { current, byId: new Map(keys.map((k) => [k.id, k])) };
}

export function generateMasterKeyText(): string {
  return randomBytes(32).toString("base64");
}

export interface KeyringSource {
  POSTPATH_MASTER_KEY?: string | undefined;
  POSTPATH_MASTER_KEY_FILE?: string | undefined;
  POSTPATH_DATA_DIR: string;
  NODE_ENV: "development" | "test" | "production";
}

/**
 * Loads the keyring from POSTPATH_MASTER_KEY, else POSTPATH_MASTER_KEY_FILE, else (outside
 * production) `<dataDir>/master.key`, generating it once. `generated` names the file when it was
 * just created, so start-up can say so.
 */
export function loadKeyring(
  env: KeyringSource,
  root: string,
): { keyring: Keyring; source: string; generated: string | null } {
  if (env.POSTPATH_MASTER_KEY)
    return {
      keyring: keyringFromText(env.POSTPATH_MASTER_KEY, "POSTPATH_MASTER_KEY"),
      source: "POSTPATH_MASTER_KEY",
      generated: null,
    };
  if (env.POSTPATH_MASTER_KEY_FILE) {
    const file = path.resolve(root, env.POSTPATH_MASTER_KEY_FILE);
    if (!fs.existsSync(file))
      throw new KeyringError(`POSTPATH_MASTER_KEY_FILE=${file} does not exist`);
    return {
      keyring: keyringFromText(fs.readFileSync(file, "utf8"), file),
      source: file,
      generated: null,
    };
  }
  if (env.NODE_ENV === "production") {
    throw new KeyringError(
      "Set POSTPATH_MASTER_KEY or POSTPATH_MASTER_KEY_FILE: channel credentials are encrypted with it (make one with: openssl rand -base64 32)",
    );
  }
  const file = path.resolve(root, env.POSTPATH_DATA_DIR, "master.key");
  let generated: string | null = null;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written aside, then hard-linked into place: when two processes start at once exactly one
    // key wins, and nobody ever reads a half-written file.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    fs.writeFileSync(tmp, `${generateMasterKeyText()}\n`, { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
      generated = file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      fs.unlinkSync(tmp);
    }
  }
  return { keyring: keyringFromText(fs.readFileSync(file, "utf8"), file), source: file, generated };
}
