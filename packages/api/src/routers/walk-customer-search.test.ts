// Walk 2026-12-05: in Customers, "Anything" with a plain word ("ada") searched customer ids only
// and answered "No customer matches" while ada1@example.com was there. A guessed search that finds
// no id now searches emails, and its pages go on through emails (real Postgres).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, type ApiTestEnv } from "../testing.ts";

const CAST = [["a", "ws-a", "MARKETER"]] as const;

describe("customer search by anything", () => {
  let env: ApiTestEnv<"a">;
  beforeAll(async () => {
    env = await openApiTestEnv(CAST, { prefix: "walksearch" });
    const ws = env.users.a.workspaceId;
    for (let i = 0; i < 30; i++) {
      const n = String(i).padStart(2, "0");
      await env.db.prisma.customer.create({
        data: { workspaceId: ws, externalId: `u${n}`, email: `ada${n}@example.com` },
      });
    }
    // An id that starts like an email: ids still come first.
    await env.db.prisma.customer.create({
      data: { workspaceId: ws, externalId: "bob-1", email: "zed@example.com" },
    });
    await env.db.prisma.customer.create({
      data: { workspaceId: ws, externalId: "u99", email: "bobby@example.com" },
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("finds customers by the start of their email when no id starts with the word", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const first = await a.customers.search({ query: "ada", limit: 25 });
    expect(first.by).toBe("email");
    expect(first.items.map((c) => c.email)).toEqual(
      [...Array(25)].map((_, i) => `ada${String(i).padStart(2, "0")}@example.com`),
    );
    expect(first.nextCursor).not.toBeNull();
    // The next page goes on through the emails, without gaps or repeats.
    const second = await a.customers.search({
      query: "ada",
      limit: 25,
      cursor: first.nextCursor!,
    });
    expect(second.items.map((c) => c.externalId)).toEqual(
      [...Array(5)].map((_, i) => `u${25 + i}`),
    );
    expect(second.nextCursor).toBeNull();
    // A word that starts an id is an id search, as before.
    const ids = await a.customers.search({ query: "bob" });
    expect([ids.by, ids.items.map((c) => c.externalId)]).toEqual(["id", ["bob-1"]]);
    // Said explicitly, "by id" does not fall back.
    expect((await a.customers.search({ query: "ada", by: "id" })).items).toEqual([]);
    // Nothing anywhere: still an empty id search.
    const none = await a.customers.search({ query: "nobody" });
    expect([none.by, none.items]).toEqual(["id", []]);
  });
});
