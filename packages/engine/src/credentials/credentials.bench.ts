// Figures only (no thresholds): envelope encryption per credential vs one raw AES-256-GCM
// encryption, to show what the per-record data key and its wrapping cost at send time.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { bench, describe } from "vitest";
import { openSecret, sealSecret } from "./envelope.ts";
import { generateMasterKeyText, keyringFromText } from "./keyring.ts";

const ring = keyringFromText(generateMasterKeyText(), "bench");
const config = JSON.stringify({
  accountSid: "AC123",
  authToken: "x".repeat(32),
  from: "+15550001111",
  baseUrl: "https://api.twilio.com",
});
const sealed = sealSecret(ring, config, "aad");
const rawKey = randomBytes(32);
const rawIv = randomBytes(12);
const rawCipher = createCipheriv("aes-256-gcm", rawKey, rawIv);
const rawCt = Buffer.concat([rawCipher.update(config), rawCipher.final()]);
const rawTag = rawCipher.getAuthTag();

describe("credential decryption at send time", () => {
  bench("openSecret (unwrap data key + decrypt)", () => {
    openSecret(ring, sealed, "aad");
  });
  bench("baseline: one raw AES-256-GCM decrypt", () => {
    const d = createDecipheriv("aes-256-gcm", rawKey, rawIv);
    d.setAuthTag(rawTag);
    Buffer.concat([d.update(rawCt), d.final()]);
  });
});

describe("credential encryption when saved", () => {
  bench("sealSecret (fresh data key + wrap)", () => {
    sealSecret(ring, config, "aad");
  });
});
