// Issue 14, item 7: entry rules counted per value of a trigger property. A customer who bought two
// machines (two purchases with different serials) gets two runs side by side that never cross; a
// second purchase with the same serial is refused and recorded, as is one without a serial; two
// events with the same serial at once make exactly one run (the database decides).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolMany } from "./enrol.ts";
import { processEventJob } from "./events.ts";
import { track } from "./ingest.ts";
import { nodeCounts } from "./operate.ts";
import { startEngineHarness, waitFor, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;

beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h?.close();
});

const perSerial = { entry: { mode: "once" as const, perValueOf: "serial" } };

async function runs(journeyId: string, customerId: string) {
  return h.db.prisma.journeyRun.findMany({
    where: { journeyId, customerId },
    orderBy: [{ entryKey: "asc" }, { entryNumber: "asc" }],
  });
}
async function skips(journeyId: string) {
  return h.db.prisma.entrySkip.findMany({
    where: { journeyId },
    orderBy: { at: "asc" },
    select: { triggerId: true, reason: true, detail: true },
  });
}

async function refusals(journeyId: string) {
  return Object.fromEntries(
    (await skips(journeyId)).map((s) => [s.triggerId, [s.reason, s.detail]]),
  );
}

describe("issue 14: entry rules per value of a trigger property", () => {
  it("two machines → two runs that never cross; a repeat serial and a purchase without one are refused and recorded", async () => {
    const { journeyId } = await h.publish(
      "registration per machine",
      [
        { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" },
        {
          id: "w",
          type: "wait.event",
          data: {
            event: "form_submitted",
            timeout: { amount: 1, unit: "days" },
            correlate: { property: "serial", triggerProperty: "serial" },
          },
          next: { arrived: "end", timedOut: "end" },
        },
      ],
      perSerial,
    );
    const ann = await h.customer("ann");
    const buy = (serial: unknown, extra: Record<string, unknown> = {}) =>
      track(h.ctx, h.workspaceId, {
        userId: "ann",
        event: "purchase",
        properties: serial === undefined ? extra : { serial, ...extra },
      });
    const a = await buy("SN-A");
    const b = await buy("SN-B");
    const both = await waitFor("both runs parked", async () => {
      const rs = await runs(journeyId, ann);
      return rs.length === 2 && rs.every((r) => r.parkedEvent === "form_submitted") ? rs : null;
    });
    expect(both.map((r) => [r.entryKey, r.entryNumber, r.triggerEventId])).toEqual([
      ["SN-A", 1, a.eventId],
      ["SN-B", 1, b.eventId],
    ]);

    // The same machine again (its run still waiting, then ended), and a purchase without a serial.
    const again = await buy(" SN-A ");
    const none = await buy(undefined, { sku: "BEANS" });
    const empty = await buy("");
    await waitFor("the refusals", async () => ((await skips(journeyId)).length === 3 ? 1 : null));
    expect(await refusals(journeyId)).toEqual({
      [again.eventId]: ["activeRun", "entry rule: already in this journey for serial SN-A"],
      [none.eventId]: [
        "noEntryValue",
        "entry rule: counts entries per serial, and the trigger has no serial",
      ],
      [empty.eventId]: [
        "noEntryValue",
        "entry rule: counts entries per serial, and the trigger's serial is empty",
      ],
    });

    // Registering machine B ends B's run only: the runs never cross.
    await track(h.ctx, h.workspaceId, {
      userId: "ann",
      event: "form_submitted",
      properties: { form: "registration", serial: "SN-B" },
    });
    const [runA, runB] = await waitFor("B's run to end", async () => {
      const rs = await runs(journeyId, ann);
      return rs[1]?.status === "COMPLETED" ? rs : null;
    });
    expect(runB?.entryKey).toBe("SN-B");
    expect(runA).toMatchObject({
      entryKey: "SN-A",
      status: "WAITING",
      parkedEvent: "form_submitted",
    });

    // Once A's run has ended, "once" still refuses machine A — per serial, not per customer.
    await h.db.prisma.journeyRun.updateMany({
      where: { id: runA!.id },
      data: { status: "COMPLETED", parkedEvent: null, parkedKey: null, waitingUntil: null },
    });
    const later = await buy("SN-A");
    const third = await buy("SN-C");
    await waitFor("the third machine's run", async () =>
      (await runs(journeyId, ann)).length === 3 ? 1 : null,
    );
    await waitFor("the refusal", async () => ((await skips(journeyId)).length === 4 ? 1 : null));
    expect((await refusals(journeyId))[later.eventId]).toEqual([
      "enteredBefore",
      "entry rule: enters once for serial SN-A",
    ]);
    expect((await runs(journeyId, ann)).map((r) => [r.entryKey, r.triggerEventId])).toEqual([
      ["SN-A", a.eventId],
      ["SN-B", b.eventId],
      ["SN-C", third.eventId],
    ]);
    const counts = await nodeCounts(h.ctx, h.workspaceId, journeyId);
    expect(counts.t?.refused).toEqual({ activeRun: 1, noEntryValue: 2, enteredBefore: 1 });
  });

  it("two events with the same serial at once make exactly one run; the other is recorded", async () => {
    // No workers: both event jobs are run by hand, concurrently.
    const quiet = await startEngineHarness({ workers: false });
    try {
      const { journeyId } = await quiet.publish(
        "concurrent",
        [{ id: "t", type: "trigger.event", data: { event: "purchase" }, next: "end" }],
        // afterExit: only the unique index keeps two runs of one serial from starting together.
        { entry: { mode: "afterExit" as const, perValueOf: "serial" } },
      );
      for (let round = 0; round < 5; round++) {
        const userId = `bob-${round}`;
        const bob = await quiet.customer(userId);
        const events = await Promise.all(
          [0, 1].map((i) =>
            track(quiet.ctx, quiet.workspaceId, {
              userId,
              event: "purchase",
              properties: { serial: "SN-SAME", order: i },
            }),
          ),
        );
        await Promise.all(events.map((e) => processEventJob(quiet.ctx, { eventId: e.eventId })));
        const made = await quiet.db.prisma.journeyRun.findMany({
          where: { journeyId, customerId: bob },
        });
        expect(made.map((r) => [r.entryKey, r.entryNumber])).toEqual([["SN-SAME", 1]]);
        const refused = await quiet.db.prisma.entrySkip.findMany({
          where: { journeyId, customerId: bob },
        });
        expect(refused).toHaveLength(1);
        expect(refused[0]?.triggerId).not.toBe(made[0]?.triggerEventId);
        expect(["activeRun", "concurrentEntry"]).toContain(refused[0]?.reason);
      }
      // Straight at the database: a second entry 1 for the same serial is a unique violation,
      // another serial is not.
      const row = await quiet.db.prisma.journeyRun.findFirstOrThrow({ where: { journeyId } });
      const copy = {
        workspaceId: row.workspaceId,
        journeyId,
        versionId: row.versionId,
        customerId: row.customerId,
        entryNumber: 1,
      };
      await expect(
        quiet.db.prisma.journeyRun.create({ data: { ...copy, entryKey: "SN-SAME" } }),
      ).rejects.toMatchObject({ code: "P2002" });
      await quiet.db.prisma.journeyRun.create({ data: { ...copy, entryKey: "SN-OTHER" } });
    } finally {
      await quiet.close();
    }
  });

  it("bulk enrolment counts by the trigger's value too, and refuses all when it has none", async () => {
    const { journeyId, versionId } = await h.publish(
      "bulk per serial",
      [{ id: "t", type: "trigger.manual", data: { properties: ["serial"] }, next: "end" }],
      perSerial,
    );
    const cat = await h.customer("cat");
    const dan = await h.customer("dan");
    const args = { workspaceId: h.workspaceId, journeyId, versionId };
    const trigger = (id: string, properties: Record<string, unknown>) => ({
      eventId: `enrol-${id}`,
      name: "enrolled",
      properties,
      timestamp: Date.now(),
    });
    expect(
      await enrolMany(h.ctx, {
        ...args,
        customerIds: [cat, dan],
        trigger: trigger("a", { serial: "X" }),
      }),
    ).toEqual({ enrolled: 2, skipped: 0 });
    expect(
      await enrolMany(h.ctx, {
        ...args,
        customerIds: [cat],
        trigger: trigger("b", { serial: "Y" }),
      }),
    ).toEqual({ enrolled: 1, skipped: 0 });
    expect(
      await enrolMany(h.ctx, {
        ...args,
        customerIds: [cat],
        trigger: trigger("c", { serial: "X" }),
      }),
    ).toEqual({ enrolled: 0, skipped: 1 });
    expect(
      await enrolMany(h.ctx, { ...args, customerIds: [cat, dan], trigger: trigger("d", {}) }),
    ).toEqual({ enrolled: 0, skipped: 2 });
    expect(
      (await h.db.prisma.journeyRun.findMany({ where: { journeyId } }))
        .map((r) => `${r.customerId === cat ? "cat" : "dan"}:${r.entryKey}:${r.entryNumber}`)
        .sort(),
    ).toEqual(["cat:X:1", "cat:Y:1", "dan:X:1"]);
    expect((await skips(journeyId)).map((s) => [s.triggerId, s.reason]).sort()).toEqual([
      ["enrol-c", expect.stringMatching(/^(activeRun|enteredBefore)$/)],
      ["enrol-d", "noEntryValue"],
      ["enrol-d", "noEntryValue"],
    ]);
  });

  it("without the setting nothing changes: one count per customer, whatever the serial", async () => {
    const { journeyId } = await h.publish(
      "per customer",
      [{ id: "t", type: "trigger.event", data: { event: "purchase" }, next: "end" }],
      { entry: { mode: "once" } },
    );
    const eve = await h.customer("eve");
    await track(h.ctx, h.workspaceId, {
      userId: "eve",
      event: "purchase",
      properties: { serial: "SN-1" },
    });
    await track(h.ctx, h.workspaceId, {
      userId: "eve",
      event: "purchase",
      properties: { serial: "SN-2" },
    });
    await waitFor("the refusal", async () => ((await skips(journeyId)).length === 1 ? 1 : null));
    const made = await runs(journeyId, eve);
    expect(made.map((r) => [r.entryKey, r.entryNumber])).toEqual([["", 1]]);
    expect((await skips(journeyId))[0]?.detail).toMatch(
      /^entry rule: (enters once|already in this journey)$/,
    );
  });
});
