// What the specs read from outside the browser: the mails the server sent (the SMTP sink's
// folder) and the demo workspace's write key for /v1 (both set up by global-setup.ts).
import { readFileSync } from "node:fs";
import path from "node:path";
import { readMailDir, type ReceivedMail } from "@postpath/channels/testing";

/** Every mail the SMTP sink has received so far. */
export function mails(): ReceivedMail[] {
  const dir = process.env.E2E_MAIL_DIR;
  if (!dir) throw new Error("E2E_MAIL_DIR is not set: run through playwright.config.ts");
  return readMailDir(dir);
}

/** Basic auth with the demo workspace's write key, as Segment's libraries send it to /v1. */
export function writeKeyAuth(): Record<string, string> {
  const dataDir = process.env.E2E_DATA_DIR ?? "";
  const key = readFileSync(path.join(dataDir, "demo-write-key.txt"), "utf8").trim();
  return { authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}` };
}
