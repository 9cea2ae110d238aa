// Issue 14: a visit's `purl_visited` event is stored already processed (no worker job) when
// nothing in the workspace reacts to it, and goes through the events worker as before when
// something does — a journey triggered by it, a saved segment reading it — also when that was
// saved after the process read the workspace's listeners (the statement checks the stamp).
import { afterEach, describe, expect, it } from "vitest";
import { eventListeners, readEventListeners } from "./event-listeners.ts";
import { forgetSegments } from "./segments.ts";
import { saveSegment, startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";
import { visitPurl } from "./visits.ts";

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function link(x: EngineHarness, token: string, customerId: string) {
  await x.db.prisma.purl.create({
    data: {
      token,
      workspaceId: x.workspaceId,
      runId: `run-${token}`,
      customerId,
      messageId: `msg-${token}`,
      page: "welcome",
      params: { serial: `SN-${token}` },
    },
  });
}

const eventOf = (x: EngineHarness, token: string) =>
  x.db.prisma.event.findFirstOrThrow({
    where: {
      workspaceId: x.workspaceId,
      name: "purl_visited",
      properties: { path: ["token"], equals: token },
    },
    select: { id: true, timestamp: true, processedAt: true },
  });

describe("issue 14: a visit's event when nothing listens for it", () => {
  it("is stored processed with the visit, which is counted and traced; the first visit, before the workspace is known, goes the usual way", async () => {
    const clock = Date.parse("2026-06-01T10:00:00.000Z");
    // No workers: nothing but the visit statement can mark an event processed.
    h = await startEngineHarness({ workers: false, now: () => clock });
    // A journey on other events, a segment on another event: nothing reads purl_visited.
    await h.publish("Welcome", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "end" },
    ]);
    await saveSegment(h, "Buyers", { rules: [{ kind: "event", event: "purchase" }] });
    const ann = await h.customer("ann");
    await link(h, "first", ann);
    await link(h, "second", ann);

    // Cold: the process has not read the workspace's listeners yet, so it processes as always.
    expect(await visitPurl(h.ctx, "first")).toMatchObject({ token: "first", visits: 1 });
    expect((await eventOf(h, "first")).processedAt).toBeNull();

    const known = await eventListeners(h.ctx, h.workspaceId);
    expect(known.names?.has("purl_visited")).toBe(false);
    expect(known.names?.has("purchase")).toBe(true);

    expect(await visitPurl(h.ctx, "second")).toMatchObject({ token: "second", visits: 1 });
    const e = await eventOf(h, "second");
    // Stored processed at the visit's time (the fake clock: no one else writes that instant).
    expect(e.processedAt?.getTime()).toBe(clock);
    expect(e.timestamp.getTime()).toBe(clock);
    expect(await h.db.prisma.pageVisit.count({ where: { token: "second" } })).toBe(1);
    expect(
      await h.db.prisma.runTrace.findMany({
        where: { runId: "run-second", kind: "page.visited" },
        select: { detail: true },
      }),
    ).toEqual([{ detail: expect.objectContaining({ text: "Opened personal page welcome" }) }]);
    expect((await h.db.prisma.purl.findUniqueOrThrow({ where: { token: "second" } })).visits).toBe(
      1,
    );
  });

  it("lists every consumer's event names: triggers, goals, exit criteria and waits (superseded versions too), conversions, orders, segments", async () => {
    h = await startEngineHarness({ workers: false });
    const first = await h.publish("Registration", [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
      {
        id: "w",
        type: "wait.event",
        data: { event: "registered", timeout: { amount: 2, unit: "days" } },
        next: { arrived: "end", timedOut: "end" },
      },
    ]);
    // Version 2 supersedes version 1 (whose runs may still wait for "registered").
    await h.publish(
      "Registration",
      [{ id: "t", type: "trigger.event", data: { event: "signup" }, next: "end" }],
      {
        goal: { name: "Reviewed", event: "reviewed" },
        exitCriteria: [{ event: "unsubscribed" }],
        attribution: { event: "upgraded" },
      },
      first.journeyId,
    );
    await saveSegment(h, "Openers", { rules: [{ kind: "event", event: "email_opened" }] });
    await h.db.prisma.workspace.update({
      where: { id: h.workspaceId },
      data: { settings: { analytics: { purchaseEvent: "checkout" } } },
    });
    const l = await readEventListeners(h.ctx, h.workspaceId);
    expect([...(l.names ?? [])].sort()).toEqual(
      [
        "Order Completed",
        "checkout", // the purchase event: orders; also version 1's conversion event (no goal)
        "email_opened",
        "purchase",
        "registered",
        "reviewed",
        "signup",
        "unsubscribed",
        "upgraded",
      ].sort(),
    );
  });
});

describe("issue 14: a visit's event when something listens for it", () => {
  it("enrols into a journey triggered by purl_visited, also one published after the listeners were read", async () => {
    h = await startEngineHarness({ workers: false });
    const ann = await h.customer("ann");
    const bob = await h.customer("bob");
    await link(h, "ann-1", ann);
    await link(h, "bob-1", bob);

    // Read while nothing listens; then a journey is published without telling this process.
    expect((await eventListeners(h.ctx, h.workspaceId)).names?.has("purl_visited")).toBe(false);
    const { journeyId } = await h.publish("Visited", [
      { id: "t", type: "trigger.event", data: { event: "purl_visited" }, next: "end" },
    ]);
    await visitPurl(h.ctx, "ann-1");
    expect((await eventOf(h, "ann-1")).processedAt).toBeNull();

    // Once read again, the journey's trigger is known.
    await waitFor("the listeners are read again", async () => {
      const l = await eventListeners(h!.ctx, h!.workspaceId);
      return l.names?.has("purl_visited") === true;
    });
    await visitPurl(h.ctx, "bob-1");
    expect((await eventOf(h, "bob-1")).processedAt).toBeNull();

    h.startWorkers();
    for (const customerId of [ann, bob])
      await waitFor(`the visit enrolled ${customerId}`, () =>
        h!.db.prisma.journeyRun.findFirst({ where: { journeyId, customerId } }),
      );
    await waitFor(
      "both events processed",
      async () =>
        (await eventOf(h!, "ann-1")).processedAt !== null &&
        (await eventOf(h!, "bob-1")).processedAt !== null,
    );
  });

  it("refreshes a saved segment on purl_visited, also one created after the listeners were read", async () => {
    h = await startEngineHarness({ workers: false });
    const ann = await h.customer("ann");
    await link(h, "ann-1", ann);
    expect((await eventListeners(h.ctx, h.workspaceId)).names?.has("purl_visited")).toBe(false);

    const seg = await saveSegment(h, "Visited their page", {
      rules: [{ kind: "event", event: "purl_visited" }],
    });
    forgetSegments(h.workspaceId); // as the API does after saving one (the worker's own cache)
    await visitPurl(h.ctx, "ann-1");
    expect((await eventOf(h, "ann-1")).processedAt).toBeNull();

    h.startWorkers();
    await waitFor("ann is a member", () =>
      h!.db.prisma.segmentMembership.findUnique({
        where: { segmentId_customerId: { segmentId: seg.id, customerId: ann } },
      }),
    );
    expect((await eventOf(h, "ann-1")).processedAt).not.toBeNull();
  });
});
