// PURL landing pages (engine issue) on the real app: a PURL made by a run opens its page, counts
// the visit and records a `purl_visited` event; unknown tokens are 404; the QR code is a PNG.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, waitFor, type Harness } from "./testing/harness.ts";

describe("GET /p/:token", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("shows the personalised page, counts the visit, records an event", async () => {
    const customer = await h.db.prisma.customer.create({
      data: { workspaceId: h.workspaceId, externalId: "ann" },
    });
    await h.db.prisma.purl.create({
      data: {
        token: "tok_abc",
        workspaceId: h.workspaceId,
        runId: "r1",
        customerId: customer.id,
        messageId: "m1",
        page: "welcome",
        params: { name: "Ann <3" },
      },
    });
    const res = await fetch(`${h.baseUrl}/p/tok_abc`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-page="welcome"');
    expect(html).toContain("Ann &lt;3"); // escaped
    expect((await h.db.prisma.purl.findUniqueOrThrow({ where: { token: "tok_abc" } })).visits).toBe(
      1,
    );
    await waitFor(
      "visit event",
      async () =>
        (await h.db.prisma.event.count({
          where: { customerId: customer.id, name: "purl_visited" },
        })) === 1,
    );

    expect((await fetch(`${h.baseUrl}/p/unknown`)).status).toBe(404);
    const qr = await fetch(`${h.baseUrl}/p/tok_abc/qr.png`);
    expect(qr.headers.get("content-type")).toBe("image/png");
    expect(
      Buffer.from(await qr.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
  });
});
