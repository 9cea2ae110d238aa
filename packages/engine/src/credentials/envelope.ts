// Envelope encryption: a random 256-bit data key per record encrypts the secret (AES-256-GCM);
// the data key is itself encrypted ("wrapped") by the master key (AES-256-GCM). Rotating the
// master key re-wraps data keys only; the ciphertexts never change.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Keyring } from "./keyring.ts";
import { KeyringError } from "./keyring.ts";

export interface Sealed {
  ciphertext: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  authTag: Uint8Array<ArrayBuffer>;
  /** iv (12) ‖ tag (16) ‖ encrypted data key (32) under the master key. */
  wrappedKey: Uint8Array<ArrayBuffer>;
  masterKeyId: string;
}

function bytes(b: Buffer): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(b.length));
  out.set(b);
  return out;
}

function gcmEncrypt(
  key: Buffer,
  plaintext: Buffer,
  aad: Buffer,
): { iv: Buffer; tag: Buffer; ct: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ct };
}

function gcmDecrypt(
  key: Buffer,
  iv: Uint8Array,
  tag: Uint8Array,
  ct: Uint8Array,
  aad: Buffer,
): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]);
}

const WRAP_AAD = Buffer.from("postpath:data-key:v1");

export function wrapKey(
  keyring: Keyring,
  dataKey: Buffer,
): { wrappedKey: Uint8Array<ArrayBuffer>; masterKeyId: string } {
  const { iv, tag, ct } = gcmEncrypt(keyring.current.key, dataKey, WRAP_AAD);
  return { wrappedKey: bytes(Buffer.concat([iv, tag, ct])), masterKeyId: keyring.current.id };
}

export function unwrapKey(keyring: Keyring, wrappedKey: Uint8Array, masterKeyId: string): Buffer {
  const master = keyring.byId.get(masterKeyId);
  if (!master)
    throw new KeyringError(
      `credential is wrapped by master key ${masterKeyId}, which is not configured (add it after the current key in POSTPATH_MASTER_KEY / the key file)`,
    );
  const w = Buffer.from(wrappedKey);
  try {
    return gcmDecrypt(master.key, w.subarray(0, 12), w.subarray(12, 28), w.subarray(28), WRAP_AAD);
  } catch {
    throw new KeyringError(
      `master key ${masterKeyId} could not unwrap a data key (wrong key or corrupted row)`,
    );
  }
}

/** Encrypts `plaintext` under a fresh data key. `aad` binds the ciphertext to its row (workspace, kind). */
export function sealSecret(keyring: Keyring, plaintext: string, aad: string): Sealed {
  const dataKey = randomBytes(32);
  const { iv, tag, ct } = gcmEncrypt(
    dataKey,
    Buffer.from(plaintext, "utf8"),
    Buffer.from(aad, "utf8"),
  );
  const wrapped = wrapKey(keyring, dataKey);
  dataKey.fill(0);
  return { ciphertext: bytes(ct), iv: bytes(iv), authTag: bytes(tag), ...wrapped };
}

export function openSecret(
  keyring: Keyring,
  sealed: Omit<Sealed, "ciphertext" | "iv" | "authTag" | "wrappedKey"> & {
    ciphertext: Uint8Array;
    iv: Uint8Array;
    authTag: Uint8Array;
    wrappedKey: Uint8Array;
  },
  aad: string,
): string {
  const dataKey = unwrapKey(keyring, sealed.wrappedKey, sealed.masterKeyId);
  try {
    return gcmDecrypt(
      dataKey,
      sealed.iv,
      sealed.authTag,
      sealed.ciphertext,
      Buffer.from(aad, "utf8"),
    ).toString("utf8");
  } catch {
    throw new KeyringError(
      "credential ciphertext failed authentication (corrupted or moved between workspaces)",
    );
  } finally {
    dataKey.fill(0);
  }
}
