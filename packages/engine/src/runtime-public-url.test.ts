// Links in messages (PURLs and their QR codes, unsubscribe, webhook addresses) point where people
// reach the app: PUBLIC_URL, else the address the server listens on — not a fixed :3000, which made
// every personal link dead on a server started with another PORT (found walking the case study).
import { randomBytes } from "node:crypto";
import { parseEnv } from "@postpath/config";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";
import { openRuntime, publicUrlOf } from "./runtime.ts";

describe("the public address links are made with", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("is the server's own address when PUBLIC_URL is not set, in the runtime's engine", async () => {
    const env = parseEnv({
      DATABASE_URL: db.url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      REDIS_AUTOSTART: "false",
      QUEUE_PREFIX: `url${randomBytes(4).toString("hex")}`,
      POSTPATH_MASTER_KEY: randomBytes(32).toString("base64"),
      PORT: "3300",
    });
    const rt = await openRuntime(env, createLogger("silent"), { alongside: true });
    try {
      expect(rt.engine.publicUrl).toBe("http://127.0.0.1:3300");
    } finally {
      await rt.close();
    }
  });

  it("is PUBLIC_URL when set; a wildcard or IPv6 listen host is reachable as written", () => {
    const at = (HOST: string, PORT: number, PUBLIC_URL?: string) =>
      publicUrlOf({ HOST, PORT, ...(PUBLIC_URL ? { PUBLIC_URL } : {}) });
    expect(at("0.0.0.0", 8080, "https://go.coffee.example")).toBe("https://go.coffee.example");
    expect(at("0.0.0.0", 8080)).toBe("http://127.0.0.1:8080");
    expect(at("::", 8080)).toBe("http://127.0.0.1:8080");
    expect(at("::1", 3001)).toBe("http://[::1]:3001");
    expect(at("postpath.internal", 3000)).toBe("http://postpath.internal:3000");
    expect(at("127.0.0.1", 0)).toBe("http://127.0.0.1:3000");
  });
});
