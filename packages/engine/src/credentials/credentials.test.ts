import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NoProviderError, staticProviders } from "../providers.ts";
import { openSecret, sealSecret } from "./envelope.ts";
import { generateMasterKeyText, keyringFromText, loadKeyring } from "./keyring.ts";
import { credentialProviders } from "./resolver.ts";
import { createCredential, readCredential, rewrapAll, rotateCredential } from "./store.ts";

// The test's receiver listens on 127.0.0.1, a private address the engine must be told to allow.
const LOCAL = { outbound: { allowHosts: ["127.0.0.1"] } };
const k1 = generateMasterKeyText();
const k2 = generateMasterKeyText();

describe("envelope encryption", () => {
  it("round-trips, with a fresh data key and IV per record", () => {
    const ring = keyringFromText(k1, "test");
    const a = sealSecret(ring, "s3cret-token", "aad");
    const b = sealSecret(ring, "s3cret-token", "aad");
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
    expect(Buffer.from(a.wrappedKey).equals(Buffer.from(b.wrappedKey))).toBe(false);
    expect(Buffer.from(a.ciphertext).toString("utf8")).not.toContain("s3cret");
    expect(openSecret(ring, a, "aad")).toBe("s3cret-token");
  });

  it("refuses a ciphertext moved to another row (AAD), a tampered byte, or a missing master key", () => {
    const ring = keyringFromText(k1, "test");
    const sealed = sealSecret(ring, "s3cret-token", "ws-a");
    expect(() => openSecret(ring, sealed, "ws-b")).toThrow(/authentication/);
    const tampered = {
      ...sealed,
      ciphertext: Uint8Array.from(sealed.ciphertext, (x, i) => (i === 0 ? x ^ 1 : x)),
    };
    expect(() => openSecret(ring, tampered, "ws-a")).toThrow(/authentication/);
    expect(() => openSecret(keyringFromText(k2, "other"), sealed, "ws-a")).toThrow(
      /not configured/,
    );
  });

  it("loads keys from env, a key file, or generates a dev key file once; production needs one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pp-keys-"));
    expect(
      loadKeyring(
        { POSTPATH_MASTER_KEY: `${k2},${k1}`, POSTPATH_DATA_DIR: dir, NODE_ENV: "test" },
        dir,
      ).keyring.byId.size,
    ).toBe(2);
    const first = loadKeyring({ POSTPATH_DATA_DIR: dir, NODE_ENV: "development" }, dir);
    expect(first.generated).toBe(path.join(dir, "master.key"));
    expect(fs.statSync(path.join(dir, "master.key")).mode & 0o777).toBe(0o600);
    const second = loadKeyring({ POSTPATH_DATA_DIR: dir, NODE_ENV: "development" }, dir);
    expect(second.generated).toBeNull();
    expect(second.keyring.current.id).toBe(first.keyring.current.id);
    expect(() => loadKeyring({ POSTPATH_DATA_DIR: dir, NODE_ENV: "production" }, dir)).toThrow(
      /POSTPATH_MASTER_KEY/,
    );
    expect(() =>
      loadKeyring({ POSTPATH_MASTER_KEY: "short", POSTPATH_DATA_DIR: dir, NODE_ENV: "test" }, dir),
    ).toThrow(/base64 of 32 bytes/);
  });
});

describe("stored credentials (real Postgres) and the credential-backed resolver", () => {
  let db: TestDatabase;
  let server: http.Server;
  let url: string;
  const received: { auth: string | undefined; body: string }[] = [];
  let workspaceId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    workspaceId = (await db.prisma.workspace.create({ data: { name: "W", slug: "w" } })).id;
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ auth: req.headers.authorization, body });
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ id: `push-${received.length}` }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  });
  afterAll(async () => {
    server?.close();
    await db?.drop();
  });

  it("stores only ciphertext and last 4; rotation of the master key re-wraps data keys and keeps secrets readable", async () => {
    const ring1 = keyringFromText(k1, "k1");
    const row = await createCredential(db, ring1, {
      workspaceId,
      kind: "PUSH",
      label: "Push",
      config: { endpoint: url, apiKey: "push-api-key-ABCD" },
    });
    expect(row).not.toHaveProperty("ciphertext");
    expect(row.last4).toBe("ABCD");
    const raw = await db.prisma.channelCredential.findUniqueOrThrow({ where: { id: row.id } });
    expect(JSON.stringify(raw)).not.toContain("push-api-key");
    expect(Buffer.from(raw.ciphertext).toString("latin1")).not.toContain("push-api-key");

    const ring2 = keyringFromText(`${k2},${k1}`, "k2,k1");
    expect(await rewrapAll(db, ring2)).toEqual({ rewrapped: 1, total: 1 });
    expect(await rewrapAll(db, ring2)).toEqual({ rewrapped: 0, total: 1 });
    const after = await db.prisma.channelCredential.findUniqueOrThrow({ where: { id: row.id } });
    expect(after.masterKeyId).toBe(ring2.current.id);
    expect(Buffer.from(after.ciphertext).equals(Buffer.from(raw.ciphertext))).toBe(true);
    // The new key alone now opens it; the old key alone no longer does.
    const onlyNew = keyringFromText(k2, "k2");
    expect((await readCredential(db, onlyNew, { workspaceId, id: row.id }))?.config.apiKey).toBe(
      "push-api-key-ABCD",
    );
    await expect(readCredential(db, ring1, { workspaceId, id: row.id })).rejects.toThrow(
      /not configured/,
    );
  });

  it("decrypts at send time: the provider uses the workspace credential, a rotated secret takes effect, no credential falls back", async () => {
    const ring = keyringFromText(k2, "k2");
    const resolve = credentialProviders(db, ring, staticProviders({}));
    const push = await resolve(workspaceId, "push");
    await push.send(
      { idempotencyKey: "k-1", to: "device-1", title: "t", body: "b" } as never,
      LOCAL,
    );
    expect(received.at(-1)?.auth).toBe("Bearer push-api-key-ABCD");

    const cred = await db.prisma.channelCredential.findFirstOrThrow({
      where: { workspaceId, kind: "PUSH" },
    });
    await rotateCredential(db, ring, {
      workspaceId,
      id: cred.id,
      config: { endpoint: url, apiKey: "push-api-key-WXYZ" },
    });
    await (
      await resolve(workspaceId, "push")
    ).send({ idempotencyKey: "k-2", to: "device-1", title: "t", body: "b" } as never, LOCAL);
    expect(received.at(-1)?.auth).toBe("Bearer push-api-key-WXYZ");

    await expect(resolve(workspaceId, "sms")).rejects.toBeInstanceOf(NoProviderError);
    const other = (await db.prisma.workspace.create({ data: { name: "O", slug: "o" } })).id;
    await expect(resolve(other, "push")).rejects.toBeInstanceOf(NoProviderError);
    expect(
      await rotateCredential(db, ring, {
        workspaceId: other,
        id: cred.id,
        config: { endpoint: url, apiKey: "x-api-key-0000" },
      }),
    ).toBeNull();
    await resolve.close();
  });
});

describe("pnpm credentials:rotate-master-key (the real script)", () => {
  it("generates a new key in the key file, re-wraps every data key, and secrets stay readable with the new key only", async () => {
    const { spawnSync } = await import("node:child_process");
    const db = await createTestDatabase();
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pp-rotate-"));
      const keyFile = path.join(dir, "master.key");
      const oldKey = generateMasterKeyText();
      fs.writeFileSync(keyFile, `${oldKey}\n`, { mode: 0o600 });
      const ws = (await db.prisma.workspace.create({ data: { name: "R", slug: "r" } })).id;
      const cred = await createCredential(db, keyringFromText(oldKey, "old"), {
        workspaceId: ws,
        kind: "SMS",
        label: "sms",
        config: { accountSid: "AC1", authToken: "rotate-me-token-1234", from: "+15550000000" },
      });

      const res = spawnSync("pnpm", ["--silent", "credentials:rotate-master-key"], {
        cwd: path.resolve(import.meta.dirname, "../.."),
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          POSTPATH_MASTER_KEY_FILE: keyFile,
          POSTPATH_MASTER_KEY: "",
          LOG_LEVEL: "silent",
        },
        encoding: "utf8",
      });
      expect(res.stderr).toBe("");
      expect(res.stdout).toMatch(/re-wrapped 1 of 1/);
      const newText = fs.readFileSync(keyFile, "utf8").trim();
      expect(newText).not.toContain(oldKey);
      const ring = keyringFromText(newText, "new");
      expect(
        (await db.prisma.channelCredential.findUniqueOrThrow({ where: { id: cred.id } }))
          .masterKeyId,
      ).toBe(ring.current.id);
      expect(
        (await readCredential(db, ring, { workspaceId: ws, id: cred.id }))?.config.authToken,
      ).toBe("rotate-me-token-1234");
    } finally {
      await db.drop();
    }
  });
});

describe("on the embedded database (PGlite, the pnpm start default)", () => {
  it("creates, reads, rotates and re-wraps credentials", async () => {
    const { migrate, openDatabase } = await import("@postpath/db");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pp-pglite-"));
    const db = await openDatabase({ dataDir: dir });
    try {
      await migrate(db);
      const ws = (await db.prisma.workspace.create({ data: { name: "E", slug: "e" } })).id;
      const ring = keyringFromText(k1, "k1");
      const row = await createCredential(db, ring, {
        workspaceId: ws,
        kind: "PUSH",
        label: "Push",
        config: { endpoint: "https://push.example/send", apiKey: "embedded-key-AAAA" },
      });
      expect(row.last4).toBe("AAAA");
      await rotateCredential(db, ring, {
        workspaceId: ws,
        id: row.id,
        config: { endpoint: "https://push.example/send", apiKey: "embedded-key-BBBB" },
      });
      const ring2 = keyringFromText(`${k2},${k1}`, "k2,k1");
      expect(await rewrapAll(db, ring2)).toEqual({ rewrapped: 1, total: 1 });
      expect(
        (await readCredential(db, keyringFromText(k2, "k2"), { workspaceId: ws, id: row.id }))
          ?.config.apiKey,
      ).toBe("embedded-key-BBBB");
    } finally {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
