// Issue 13, item 1: a credential's usage stamp must not invalidate its cached provider. Recording
// lastUsedAt used to bump updatedAt, which the cache keyed on: the pooled SMTP transport was
// rebuilt and the old pool closed under queued sends ("Connection pool was closed").
import { createTestDatabase, type TestDatabase } from "@postpath/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { generateMasterKeyText, keyringFromText } from "./credentials/keyring.ts";
import { credentialProviders } from "./credentials/resolver.ts";
import { createCredential, rotateCredential } from "./credentials/store.ts";
import { staticProviders } from "./providers.ts";
import { waitFor } from "./testing/harness.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

it("usage stamps (and other bookkeeping updates) keep the cached provider; a rotation replaces it", async () => {
  const ring = keyringFromText(generateMasterKeyText(), "test");
  const ws = await db.prisma.workspace.create({ data: { name: "W", slug: "w-cache" } });
  const cred = await createCredential(db, ring, {
    workspaceId: ws.id,
    kind: "SMTP",
    label: "Mail",
    config: { url: "smtp://127.0.0.1:2525", from: "Shop <s@pp.test>" },
  });
  const resolve = credentialProviders(db, ring, staticProviders({}));
  try {
    const first = await resolve(ws.id, "email");
    // The resolver's own usage stamp lands, and leaves "last changed" alone.
    const stamped = await waitFor("lastUsedAt recorded", async () => {
      const row = await db.prisma.channelCredential.findUniqueOrThrow({ where: { id: cred.id } });
      return row.lastUsedAt ? row : null;
    });
    expect(stamped.updatedAt).toEqual(cred.updatedAt);
    expect(await resolve(ws.id, "email")).toBe(first);
    // Any update through Prisma bumps @updatedAt (the old usage stamp did exactly this).
    await db.prisma.channelCredential.update({
      where: { id: cred.id },
      data: { lastUsedAt: new Date(), lastTestedAt: new Date(), lastTestOk: true },
    });
    expect(await resolve(ws.id, "email")).toBe(first);
    // A new secret config is a new provider.
    await rotateCredential(db, ring, {
      workspaceId: ws.id,
      id: cred.id,
      config: { url: "smtp://127.0.0.1:2526", from: "Shop <s@pp.test>" },
    });
    expect(await resolve(ws.id, "email")).not.toBe(first);
  } finally {
    await resolve.close();
  }
});
