// issue 18: publishing warns when another live journey has the same trigger — a customer would
// enter both and get both journeys' messages. Real Postgres, createCaller.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, TWO_WORKSPACES, type ApiTestEnv } from "../testing.ts";
import { demoJourneyDraft } from "../seed.ts";

function withTrigger(event: string, filters: unknown[] = []) {
  const draft = demoJourneyDraft(30);
  return {
    ...draft,
    nodes: draft.nodes.map((n) => (n.id === "trigger" ? { ...n, data: { event, filters } } : n)),
  } as typeof draft;
}

describe("journeys.diff: other live journeys on the same trigger", () => {
  let env: ApiTestEnv<"a" | "b" | "viewer">;

  beforeAll(async () => {
    env = await openApiTestEnv(TWO_WORKSPACES, { prefix: "sametrig" });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("names the live journeys a customer would also enter, in this workspace only", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const b = createCaller(env.ctxFor(env.users.b));
    const welcome = await a.journeys.create({ name: "Welcome", draft: withTrigger("purchase") });
    await a.journeys.publish({ id: welcome.id });
    // Live in another workspace, same event: none of this workspace's business.
    const elsewhere = await b.journeys.create({ name: "B's", draft: withTrigger("purchase") });
    await b.journeys.publish({ id: elsewhere.id });
    // Same event but paused: enters nobody.
    const paused = await a.journeys.create({ name: "Paused", draft: withTrigger("purchase") });
    await a.journeys.publish({ id: paused.id });
    await a.operate.pause({ journeyId: paused.id });
    // Another event.
    const other = await a.journeys.create({ name: "Signup", draft: withTrigger("signup") });
    await a.journeys.publish({ id: other.id });

    const post = await a.journeys.create({ name: "Post-purchase", draft: withTrigger("purchase") });
    const d = await a.journeys.diff({ id: post.id });
    expect(d.sameTrigger).toEqual([
      { journeyId: welcome.id, name: "Welcome", on: "“purchase”", certain: true },
    ]);

    // Once published, Welcome sees Post-purchase too; its own versions never count.
    await a.journeys.publish({ id: post.id });
    expect((await a.journeys.diff({ id: welcome.id })).sameTrigger.map((s) => s.name)).toEqual([
      "Post-purchase",
    ]);
    expect((await a.journeys.diff({ id: other.id })).sameTrigger).toEqual([]);
  });

  it("says 'may' (not certain) when a trigger filters the event", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const vip = await a.journeys.create({
      name: "VIP purchase",
      draft: withTrigger("order", [{ property: "total", op: "gt", value: 500 }]),
    });
    await a.journeys.publish({ id: vip.id });
    const plain = await a.journeys.create({ name: "Any order", draft: withTrigger("order") });
    const d = await a.journeys.diff({ id: plain.id });
    expect(d.sameTrigger).toEqual([
      { journeyId: vip.id, name: "VIP purchase", on: "“order”", certain: false },
    ]);
  });

  it("has nothing to compare for a draft that does not compile", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id } = await a.journeys.create({ name: "Blank" });
    const d = await a.journeys.diff({ id });
    expect(d.ok).toBe(false);
    expect(d.sameTrigger).toEqual([]);
  });
});
