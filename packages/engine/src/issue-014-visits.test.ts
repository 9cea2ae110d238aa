// Issue 14: personal-page visits share one statement when they arrive together (group commit).
// Every visit is counted on its link and stored as a PageVisit row, every link visited gets its
// `purl_visited` event and trace line, expired links and links of erased customers count
// nothing, and the customer and run read in the same statement are the ones stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { visitPurl } from "./visits.ts";

let h: EngineHarness;
beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

async function link(token: string, customerId: string, expiresAt: Date | null = null) {
  await h.db.prisma.purl.create({
    data: {
      token,
      workspaceId: h.workspaceId,
      runId: `run-${token}`,
      customerId,
      messageId: `msg-${token}`,
      page: "welcome",
      params: { serial: `SN-${token}` },
      expiresAt,
    },
  });
}

describe("issue 14: batched PURL visits", () => {
  it("a concurrent burst over ten links, with repeats, counts every visit once and records each link's event", async () => {
    const customers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => h.customer(`visitor-${i}`, { first_name: `V${i}` })),
    );
    const tokens = Array.from({ length: 10 }, (_, i) => `burst-${i}`);
    for (const [i, t] of tokens.entries()) await link(t, customers[i % 5]!);
    await link("expired-1", customers[0]!, new Date(Date.now() - 60_000));
    await link("gone-1", "no-such-customer");

    // 10 links × 1..4 visits, all at once, interleaved with visits that must count nothing.
    const plan = tokens.flatMap((t, i) => Array.from({ length: (i % 4) + 1 }, () => t));
    const all = [...plan, "expired-1", "unknown-token", "gone-1", "x".repeat(201)];
    const answers = await Promise.all(all.map((t) => visitPurl(h.ctx, t)));

    for (const [i, t] of all.entries()) {
      const a = answers[i];
      if (!t.startsWith("burst-")) {
        expect(a, t).toBeNull();
        continue;
      }
      expect(a?.token).toBe(t);
      expect(a?.params).toEqual({ serial: `SN-${t}` });
      const idx = Number(t.slice("burst-".length));
      expect(a?.customer.id).toBe(customers[idx % 5]);
      expect(a?.customer.attributes).toMatchObject({ first_name: `V${idx % 5}` });
      expect(a?.published).toBeNull(); // no page "welcome" is published in this workspace
    }
    const links = await h.db.prisma.purl.findMany({
      where: { token: { in: [...tokens, "expired-1", "gone-1"] } },
      select: { token: true, visits: true },
    });
    const visitsOf = new Map(links.map((l) => [l.token, l.visits]));
    for (const t of tokens) expect(visitsOf.get(t), t).toBe(plan.filter((p) => p === t).length);
    expect(visitsOf.get("expired-1")).toBe(0);
    expect(visitsOf.get("gone-1")).toBe(0);
    expect(
      await h.db.prisma.pageVisit.count({ where: { token: { in: [...tokens, "expired-1"] } } }),
    ).toBe(plan.length);

    // Each link's visit is an event for its customer (at least one per link; repeats that
    // shared a statement share one), and the events worker processes them.
    const events = await h.db.prisma.event.findMany({
      where: { workspaceId: h.workspaceId, name: "purl_visited" },
      select: { id: true, customerId: true, properties: true },
    });
    for (const [i, t] of tokens.entries()) {
      const mine = events.filter((e) => (e.properties as { token?: string }).token === t);
      expect(mine.length, t).toBeGreaterThanOrEqual(1);
      expect(mine.length, t).toBeLessThanOrEqual((i % 4) + 1);
      expect(mine.every((e) => e.customerId === customers[i % 5])).toBe(true);
    }
    expect(events.some((e) => (e.properties as { token?: string }).token === "expired-1")).toBe(
      false,
    );
    await waitFor(
      "every visit event processed",
      async () =>
        (await h.db.prisma.event.count({
          where: { id: { in: events.map((e) => e.id) }, processedAt: null },
        })) === 0,
    );
    // One trace line per link (the repeats are reloads within the trace gap).
    const traced = await h.db.prisma.runTrace.findMany({
      where: { runId: { in: tokens.map((t) => `run-${t}`) }, kind: "page.visited" },
      select: { runId: true },
    });
    expect(traced.map((r) => r.runId).sort()).toEqual(tokens.map((t) => `run-${t}`).sort());
  });
});
