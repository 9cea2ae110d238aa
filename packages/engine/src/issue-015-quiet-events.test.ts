// Issue 15: a store's whole stream reaches ingest, and most of it (product and page views) is read
// by nothing — no trigger, no run waiting for it, no goal, exit rule, conversion, order or saved
// segment. Such an event is stored already processed and queues no job; everything else goes
// through the events worker as before, also when what reads it was published or saved after the
// process last read the workspace's listeners (the ingest statement checks the stamp).
import { afterEach, describe, expect, it } from "vitest";
import { eventListeners } from "./event-listeners.ts";
import { trackMany, type TrackInput } from "./ingest.ts";
import { forgetSegments } from "./segments.ts";
import { saveSegment, startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

let seq = 0;
const call = (userId: string, event: string): TrackInput => ({
  userId,
  event,
  messageId: `quiet-${++seq}`,
});

/** The stored events by id: processed or not. */
async function processedOf(x: EngineHarness, ids: string[]): Promise<Map<string, boolean>> {
  const rows = await x.db.prisma.event.findMany({
    where: { id: { in: ids } },
    select: { id: true, processedAt: true },
  });
  expect(rows).toHaveLength(ids.length);
  return new Map(rows.map((r) => [r.id, r.processedAt !== null]));
}

/** Event ids in the events queue's jobs (waiting: no workers run in these tests unless started). */
async function queuedIds(x: EngineHarness): Promise<Set<string>> {
  const out = new Set<string>();
  for (const job of await x.ctx.queues.events.getJobs(["waiting", "prioritized", "delayed"])) {
    const d = job.data as { eventIds?: string[]; eventId?: string };
    for (const id of d.eventIds ?? (d.eventId ? [d.eventId] : [])) out.add(id);
  }
  return out;
}

/** Tracks the calls; answers their event ids (all new). */
async function send(x: EngineHarness, calls: TrackInput[]): Promise<string[]> {
  const answers = await trackMany(x.ctx, x.workspaceId, calls);
  expect(answers.every((a) => !a.duplicate)).toBe(true);
  return answers.map((a) => a.eventId);
}

describe("issue 15: events nothing listens for", () => {
  it("are stored processed with no job, once the workspace's listeners are known; listened ones are queued in the same batch", async () => {
    h = await startEngineHarness({ workers: false });
    await h.publish("Welcome", [
      { id: "t", type: "trigger.event", data: { event: "signup" }, next: "end" },
    ]);
    // Cold: the process has not read the workspace's listeners, so everything goes the usual way.
    const cold = await send(h, [call("ann", "Product Viewed")]);
    expect((await processedOf(h, cold)).get(cold[0]!)).toBe(false);
    await waitFor("the cold event queued", async () => (await queuedIds(h!)).has(cold[0]!));

    const known = await eventListeners(h.ctx, h.workspaceId);
    expect(known.names?.has("Product Viewed")).toBe(false);
    expect(known.names?.has("signup")).toBe(true);

    const calls = Array.from({ length: 60 }, (_, i) =>
      call(
        `c-${i % 7}`,
        i % 6 === 0 ? "signup" : i % 6 === 1 ? "Order Completed" : "Product Viewed",
      ),
    );
    const ids = await send(h, calls);
    const listened = ids.filter((_, i) => calls[i]!.event !== "Product Viewed");
    const quiet = ids.filter((_, i) => calls[i]!.event === "Product Viewed");
    expect(listened).toHaveLength(20); // signup (a trigger) and Order Completed (orders)
    const processed = await processedOf(h, ids);
    for (const id of quiet) expect(processed.get(id), id).toBe(true);
    for (const id of listened) expect(processed.get(id), id).toBe(false);
    // The batch's listened events are queued (one addBulk, after the answer); the quiet ones never.
    const queued = await waitFor(
      "the listened events queued",
      async () => {
        const q = await queuedIds(h!);
        return listened.every((id) => q.has(id)) && q;
      },
      { progress: async () => (await queuedIds(h!)).size },
    );
    for (const id of quiet) expect(queued.has(id), id).toBe(false);

    // Processing the listened ones enrols as before; the quiet ones stay as stored.
    h.startWorkers();
    await waitFor("the listened events processed", async () =>
      [...(await processedOf(h!, listened)).values()].every(Boolean),
    );
    expect(
      await h.db.prisma.journeyRun.count({ where: { workspaceId: h.workspaceId } }),
    ).toBeGreaterThan(0);
    expect(await h.db.prisma.order.count({ where: { workspaceId: h.workspaceId } })).toBe(10);
  });

  it("go the usual way once a journey triggered by them is published, also when this process read the listeners before", async () => {
    h = await startEngineHarness({ workers: false });
    expect((await eventListeners(h.ctx, h.workspaceId)).names?.has("Product Viewed")).toBe(false);
    const [before] = await send(h, [call("ann", "Product Viewed")]);
    expect((await processedOf(h, [before!])).get(before!)).toBe(true);

    // Published without telling this process: its cached names are stale, the stamp is not.
    const { journeyId } = await h.publish("Browse abandonment", [
      { id: "t", type: "trigger.event", data: { event: "Product Viewed" }, next: "end" },
    ]);
    const [after] = await send(h, [call("bob", "Product Viewed")]);
    expect((await processedOf(h, [after!])).get(after!)).toBe(false);
    // The changed stamp has the listeners read again at once.
    await waitFor("the listeners read again", async () =>
      (await eventListeners(h!.ctx, h!.workspaceId)).names?.has("Product Viewed"),
    );
    const [later] = await send(h, [call("cid", "Product Viewed")]);
    expect((await processedOf(h, [later!])).get(later!)).toBe(false);

    h.startWorkers();
    const idOf = async (externalId: string) =>
      (
        await h!.db.prisma.customer.findFirstOrThrow({
          where: { workspaceId: h!.workspaceId, externalId },
        })
      ).id;
    for (const externalId of ["bob", "cid"]) {
      const customerId = await idOf(externalId);
      await waitFor(`${externalId} enrolled`, () =>
        h!.db.prisma.journeyRun.findFirst({ where: { journeyId, customerId } }),
      );
    }
    // The event stored before the journey went live enrols no one (it was processed then).
    expect(
      await h.db.prisma.journeyRun.count({ where: { journeyId, customerId: await idOf("ann") } }),
    ).toBe(0);
  });

  it("reach a run waiting for them, a saved segment reading them, and a new purchase event", async () => {
    h = await startEngineHarness({ workers: false });
    const { journeyId } = await h.publish("Registration", [
      { id: "t", type: "trigger.event", data: { event: "signup" }, next: "w" },
      {
        id: "w",
        type: "wait.event",
        data: { event: "registered", timeout: { amount: 2, unit: "days" } },
        next: { arrived: "done", timedOut: "end" },
      },
      { id: "done", type: "action.attribute", data: { set: { registered: true } }, next: "end" },
    ]);
    const known = await eventListeners(h.ctx, h.workspaceId);
    expect(known.names?.has("registered")).toBe(true);
    expect(known.names?.has("Wishlist Added")).toBe(false);
    expect(known.names?.has("checkout")).toBe(false);

    // Saved (and the analytics settings changed) after this process read the listeners.
    const seg = await saveSegment(h, "Wishlisters", {
      rules: [{ kind: "event", event: "Wishlist Added" }],
    });
    forgetSegments(h.workspaceId); // as the API does after saving one
    await h.db.prisma.workspace.update({
      where: { id: h.workspaceId },
      data: { settings: { analytics: { purchaseEvent: "checkout" } } },
    });

    h.startWorkers();
    await send(h, [call("ann", "signup")]);
    const ann = await h.db.prisma.customer.findFirstOrThrow({
      where: { workspaceId: h.workspaceId, externalId: "ann" },
    });
    await waitFor("ann waits for registered", () =>
      h!.db.prisma.journeyRun.findFirst({
        where: { journeyId, customerId: ann.id, parkedEvent: "registered" },
      }),
    );
    const ids = await send(h, [
      call("ann", "registered"),
      call("ann", "Wishlist Added"),
      call("ann", "checkout"),
    ]);
    expect([...(await processedOf(h, ids)).values()]).toEqual([false, false, false]);
    await waitFor("ann registered", async () => {
      const c = await h!.db.prisma.customer.findUniqueOrThrow({ where: { id: ann.id } });
      return (c.attributes as Record<string, unknown>).registered === true;
    });
    await waitFor("ann in the segment", () =>
      h!.db.prisma.segmentMembership.findUnique({
        where: { segmentId_customerId: { segmentId: seg.id, customerId: ann.id } },
      }),
    );
    await waitFor(
      "the checkout recorded as an order",
      async () =>
        (await h!.db.prisma.order.count({
          where: { workspaceId: h!.workspaceId, eventId: ids[2]! },
        })) === 1,
    );
  });

  it("leave the worker's index of unprocessed events small: it holds unprocessed events only", async () => {
    h = await startEngineHarness({ workers: false });
    const [def] = await h.db.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE indexname = 'Event_unprocessed_customer_idx'`,
    );
    expect(def?.indexdef).toContain(
      `("workspaceId", "customerId", name, "timestamp", id) WHERE ("processedAt" IS NULL)`,
    );
    await h.publish("Welcome", [
      { id: "t", type: "trigger.event", data: { event: "signup" }, next: "end" },
    ]);
    await eventListeners(h.ctx, h.workspaceId);
    await send(h, [
      ...Array.from({ length: 30 }, (_, i) => call(`v-${i}`, "Product Viewed")),
      call("ann", "signup"),
      call("bob", "signup"),
    ]);
    // Only the two signups wait for the worker; the 30 views were stored processed.
    const [n] = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Event" WHERE "workspaceId" = $1 AND "processedAt" IS NULL`,
      [h.workspaceId],
    );
    expect(n?.n).toBe(2);
  });
});
