// issue 12, finding 2 (tRPC): NUL characters, lone UTF-16 surrogates and deep nesting in any
// input answered 500 (Postgres refused them, or a stack overflowed). They are now a 400 that names
// the field, before any handler runs, and nothing is stored.
import { NUL_MESSAGE, SURROGATE_MESSAGE } from "@postpath/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, type Harness } from "./testing/harness.ts";

describe("issue-012: unstorable strings and deep JSON in tRPC inputs are a 400 naming the field", () => {
  let h: Harness;
  let api: ReturnType<typeof trpcHttp>;
  let journeyId: string;
  let draft: { nodes: { data: Record<string, unknown> }[] } & Record<string, unknown>;

  beforeAll(async () => {
    h = await startHarness();
    api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.admin)).status).toBe(200);
    const created = await api.mutation("journeys.create", { name: "Plain" });
    expect(created.status).toBe(200);
    journeyId = created.body.result.data.id;
    const got = await api.query("journeys.get", { id: journeyId });
    draft = got.body.result.data.draft;
  });
  afterAll(async () => {
    await h?.close();
  });

  const fieldErrors = (body: unknown) =>
    (body as { error: { data: { fieldErrors: unknown } } }).error.data.fieldErrors;

  it("NUL and lone surrogates in a plain string field", async () => {
    for (const [name, message] of [
      ["Black\u0000Friday", NUL_MESSAGE],
      ["Sale \ud83d", SURROGATE_MESSAGE],
      ["\udc00 Sale", SURROGATE_MESSAGE],
    ] as const) {
      const res = await api.mutation("journeys.create", { name });
      expect(res.status, name).toBe(400);
      expect(fieldErrors(res.body)).toEqual([{ path: "name", message }]);
    }
    // A whole surrogate pair (an emoji) is fine.
    expect((await api.mutation("journeys.create", { name: "Sale 🎉" })).status).toBe(200);
    const names = await h.db.prisma.journey.findMany({
      where: { workspaceId: h.workspaceId },
      select: { name: true },
    });
    expect(names.map((n) => n.name).sort()).toEqual(["Plain", "Sale 🎉"]);
  });

  it("inside a journey draft: save refuses it naming the node's field, and the draft is unchanged", async () => {
    const before = await h.db.prisma.journey.findUniqueOrThrow({ where: { id: journeyId } });
    const bad = structuredClone(draft);
    bad.nodes[0]!.data.event = "Order\u0000Placed";
    const res = await api.mutation("journeys.saveDraft", {
      id: journeyId,
      draft: bad,
      revision: before.draftRevision,
    });
    expect(res.status).toBe(400);
    expect(fieldErrors(res.body)).toEqual([
      { path: "draft.nodes.0.data.event", message: NUL_MESSAGE },
    ]);
    expect(res.body.error.message).toContain("draft.nodes.0.data.event");
    // In free-form settings, and in an object key.
    const key = await api.mutation("journeys.saveDraft", {
      id: journeyId,
      draft: { ...draft, settings: { "tz\ud800": "UTC" } },
      revision: before.draftRevision,
    });
    expect(key.status).toBe(400);
    expect((fieldErrors(key.body) as { path: string }[])[0]?.path).toBe("draft.settings.tz\ud800");
    const after = await h.db.prisma.journey.findUniqueOrThrow({ where: { id: journeyId } });
    expect(after.draftRevision).toBe(before.draftRevision);
    expect(after.draft).toEqual(before.draft);
  });

  it("in a GET query's input and in free-form properties", async () => {
    const res = await api.query("operate.customerRuns", { journeyId, customer: "cust\u0000" });
    expect(res.status).toBe(400);
    expect(fieldErrors(res.body)).toEqual([{ path: "customer", message: NUL_MESSAGE }]);
    const enrol = await api.mutation("operate.enrol", {
      journeyId,
      externalIds: ["c1"],
      properties: { coupon: { code: "X\udfff" } },
    });
    expect(enrol.status).toBe(400);
    expect(fieldErrors(enrol.body)).toEqual([
      { path: "properties.coupon.code", message: SURROGATE_MESSAGE },
    ]);
  });

  it("deep nesting is refused before anything walks it; the server stays healthy", async () => {
    // JSON.stringify would overflow on 100,000 levels: build the text directly.
    const body = `{"journeyId":${JSON.stringify(journeyId)},"externalIds":["c1"],"properties":{"p":${"[".repeat(100_000)}1${"]".repeat(100_000)}}}`;
    const res = await fetch(`${h.baseUrl}/trpc/operate.enrol`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-postpath-client": "test",
        cookie: api.cookie,
      },
      body,
    });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: { data: { fieldErrors: { message: string }[] } } };
    expect(err.error.data.fieldErrors[0]?.message).toMatch(/nested too deeply/);
    expect(await h.db.prisma.enrolment.count()).toBe(0);
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
  });

  it("a malformed session cookie is no session, not a 500", async () => {
    for (const cookie of ["pp_session=%E0%A4%A", "pp_session=%", "pp_session=\u0000"]) {
      const res = await fetch(`${h.baseUrl}/trpc/auth.me`, { headers: { cookie } }).catch(
        () => null,
      );
      if (res === null) continue; // fetch itself refuses some header values
      expect(res.status, cookie).toBe(200);
      expect(((await res.json()) as { result: { data: unknown } }).result.data).toBeNull();
    }
  });
});
