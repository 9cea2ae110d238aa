// Issue 12, finding 2: payloads that pass the schema but that Postgres or the JSON layer cannot
// store — a lone UTF-16 surrogate, a NUL character, nesting deeper than ~128 levels, the
// timestamp 0000-01-01T00:00:00Z — answered 500 on /v1/*, so a Segment client retried its whole
// batch, got 500 again and dropped the good events with it. Each payload is sent here inside a
// batch between two good events, and alone on /v1/track, /v1/identify and /v1/page: never a 5xx,
// the good events are stored and processed, the bad ones sanitised or refused as README says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, waitFor, type Harness } from "./testing/harness.ts";

const FFFD = "\uFFFD";

function nested(levels: number): unknown {
  let v: unknown = "bottom";
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

interface Refused {
  index: number;
  messageId?: string;
  fields: { field: string; message: string }[];
}
interface BatchAnswer {
  success?: boolean;
  stored?: number;
  refused?: Refused[];
  error?: string;
}

describe("issue 12: one bad character never loses a client's batch", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const basic = () => `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`;
  // JSON.stringify writes a lone surrogate as the escape "\ud83d" and NUL as "\u0000", as a
  // client's serialiser does: the server sees exactly the issue's payloads.
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${h.baseUrl}${path}`, {
      method: "POST",
      headers: { authorization: basic(), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as BatchAnswer & Record<string, unknown>,
    };
  };
  const event = (messageId: string) =>
    h.db.prisma.event.findFirst({
      where: { workspaceId: h.workspaceId, messageId },
      select: { id: true, name: true, properties: true, timestamp: true, receivedAt: true },
    });
  /** The good events of a batch are stored and processed (issue 15: a batch's events may share one job). */
  async function expectProcessed(messageIds: string[]) {
    for (const messageId of messageIds) {
      const ev = await event(messageId);
      expect(ev, messageId).not.toBeNull();
      await waitFor(`event ${messageId} to be processed`, async () => {
        if ((await h.engine.queues.events.getJobCountByTypes("failed")) > 0)
          throw new Error(`an event job failed (${messageId})`);
        const row = await h.db.prisma.event.findUnique({
          where: { id: ev?.id ?? "" },
          select: { processedAt: true },
        });
        return row?.processedAt != null;
      });
    }
  }
  const batchAround = (tag: string, bad: Record<string, unknown>[]) => ({
    batch: [
      {
        type: "track",
        userId: `good-${tag}`,
        event: "Order Completed",
        messageId: `${tag}-good-1`,
      },
      ...bad,
      {
        type: "track",
        userId: `good-${tag}`,
        event: "Order Completed",
        messageId: `${tag}-good-2`,
        properties: { total: 42 },
      },
    ],
  });

  it('a lone surrogate ("\\ud83d") is stored as U+FFFD, in values, keys and names', async () => {
    const res = await post(
      "/v1/batch",
      batchAround("sur", [
        {
          type: "track",
          userId: "sur-user",
          event: "Reacted \ud83d",
          messageId: "sur-bad-track",
          properties: { emoji: "\ud83d", ["key\udc00"]: "x", fine: "😀" },
        },
        {
          type: "identify",
          userId: "sur-user",
          messageId: "sur-bad-id",
          traits: { nick: "a\ud83d" },
        },
      ]),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, stored: 4, refused: [] });
    await expectProcessed(["sur-good-1", "sur-good-2", "sur-bad-track"]);
    const ev = await event("sur-bad-track");
    expect(ev?.name).toBe(`Reacted ${FFFD}`);
    expect(ev?.properties).toEqual({ emoji: FFFD, [`key${FFFD}`]: "x", fine: "😀" });
    const customer = await h.db.prisma.customer.findUniqueOrThrow({
      where: { workspaceId_externalId: { workspaceId: h.workspaceId, externalId: "sur-user" } },
    });
    expect(customer.attributes).toMatchObject({ nick: `a${FFFD}` });
  });

  it("a NUL character in any string is stored as U+FFFD", async () => {
    const res = await post(
      "/v1/batch",
      batchAround("nul", [
        {
          type: "track",
          userId: "nul\u0000user",
          event: "Signed\u0000Up",
          messageId: "nul-bad-track\u0000",
          properties: { note: "a\u0000b", ["k\u0000"]: 1 },
        },
        {
          type: "identify",
          userId: "nul-user",
          messageId: "nul-bad-id",
          traits: { bio: "\u0000" },
        },
      ]),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, stored: 4, refused: [] });
    await expectProcessed(["nul-good-1", "nul-good-2", `nul-bad-track${FFFD}`]);
    const ev = await h.db.prisma.event.findFirstOrThrow({
      where: { workspaceId: h.workspaceId, messageId: `nul-bad-track${FFFD}` },
    });
    const evCustomer = await h.db.prisma.customer.findUniqueOrThrow({
      where: { id: ev.customerId },
    });
    expect(ev.name).toBe(`Signed${FFFD}Up`);
    expect(ev.properties).toEqual({ note: `a${FFFD}b`, [`k${FFFD}`]: 1 });
    expect(evCustomer.externalId).toBe(`nul${FFFD}user`);
    const customer = await h.db.prisma.customer.findUniqueOrThrow({
      where: { workspaceId_externalId: { workspaceId: h.workspaceId, externalId: "nul-user" } },
    });
    expect(customer.attributes).toMatchObject({ bio: FFFD });
  });

  it("nesting deeper than the limit refuses that item only, naming the field", async () => {
    const res = await post(
      "/v1/batch",
      batchAround("deep", [
        {
          type: "track",
          userId: "deep-user",
          event: "Deep",
          messageId: "deep-bad-track",
          properties: nested(130),
        },
        { type: "identify", userId: "deep-user", messageId: "deep-bad-id", traits: nested(130) },
      ]),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, stored: 2 });
    expect(res.body.refused?.map((r) => [r.index, r.messageId])).toEqual([
      [1, "deep-bad-track"],
      [2, "deep-bad-id"],
    ]);
    expect(res.body.refused?.[0]?.fields[0]?.field).toMatch(/^batch\.1\.properties\.a\.a\.a/);
    expect(res.body.refused?.[0]?.fields[0]?.message).toMatch(/nested too deeply/);
    expect(res.body.refused?.[1]?.fields[0]?.field).toMatch(/^batch\.2\.traits\.a\.a\.a/);
    await expectProcessed(["deep-good-1", "deep-good-2"]);
    expect(await event("deep-bad-track")).toBeNull();
    expect(
      await h.db.prisma.identifyCall.count({
        where: { workspaceId: h.workspaceId, messageId: "deep-bad-id" },
      }),
    ).toBe(0);
  });

  it("the timestamp 0000-01-01T00:00:00Z is replaced by the time the event arrived", async () => {
    const before = Date.now();
    const res = await post(
      "/v1/batch",
      batchAround("ts", [
        {
          type: "track",
          userId: "ts-user",
          event: "Old",
          messageId: "ts-bad-track",
          timestamp: "0000-01-01T00:00:00Z",
        },
        {
          type: "track",
          userId: "ts-user",
          event: "Future",
          messageId: "ts-future-track",
          timestamp: "9999-12-31T23:59:59Z",
        },
        {
          type: "track",
          userId: "ts-user",
          event: "Kept",
          messageId: "ts-kept-track",
          timestamp: "2020-05-01T12:00:00+02:00",
        },
      ]),
    );
    const after = Date.now();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, stored: 5, refused: [] });
    await expectProcessed(["ts-good-1", "ts-good-2", "ts-bad-track", "ts-future-track"]);
    for (const id of ["ts-bad-track", "ts-future-track"]) {
      const t = (await event(id))?.timestamp.getTime() ?? 0;
      expect(t, id).toBeGreaterThanOrEqual(before);
      expect(t, id).toBeLessThanOrEqual(after);
    }
    expect((await event("ts-kept-track"))?.timestamp.toISOString()).toBe(
      "2020-05-01T10:00:00.000Z",
    );
  });

  it("a __proto__ key (found by the fuzz: the JSON parser refused the whole batch) refuses only its item", async () => {
    const res = await fetch(`${h.baseUrl}/v1/batch`, {
      method: "POST",
      headers: { authorization: basic(), "content-type": "application/json" },
      body: JSON.stringify(batchAround("proto", [])).replace(
        '"batch":[',
        '"batch":[{"type":"track","userId":"p","event":"e","messageId":"proto-bad","properties":{"__proto__":{"admin":true}}},',
      ),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      stored: 2,
      refused: [{ index: 0, fields: [{ field: "batch.0.properties.__proto__" }] }],
    });
    await expectProcessed(["proto-good-1", "proto-good-2"]);
    expect(await event("proto-bad")).toBeNull();
  });

  it("alone on /v1/track, /v1/identify and /v1/page: sanitised (200) or refused (400), never 5xx", async () => {
    const user = { userId: "single-user" };
    const cases: [string, Record<string, unknown>, number][] = [
      ["/v1/track", { ...user, event: "e\ud83d", properties: { s: "\udc00" } }, 200],
      ["/v1/track", { ...user, event: "e", properties: { s: "a\u0000b" } }, 200],
      ["/v1/track", { ...user, event: "e", properties: nested(130) }, 400],
      ["/v1/track", { ...user, event: "e", timestamp: "0000-01-01T00:00:00Z" }, 200],
      ["/v1/identify", { ...user, traits: { s: "\ud83d\u0000" } }, 200],
      ["/v1/identify", { ...user, traits: nested(130) }, 400],
      ["/v1/identify", { ...user, timestamp: "0000-01-01T00:00:00Z" }, 200],
      ["/v1/page", { ...user, name: "P\ud83d", properties: { q: "\u0000" } }, 200],
      ["/v1/page", { ...user, properties: nested(130) }, 400],
      ["/v1/page", { ...user, timestamp: "0000-01-01T00:00:00Z" }, 200],
    ];
    for (const [path, body, status] of cases) {
      const res = await post(path, body);
      expect(res.status, `${path} ${JSON.stringify(body).slice(0, 80)}`).toBe(status);
      if (status === 400)
        expect(res.body).toMatchObject({
          fields: [{ field: expect.stringMatching(/^(properties|traits)\.a\.a/) as string }],
        });
    }
  });
});
