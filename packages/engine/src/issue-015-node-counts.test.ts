// The canvas's node counts (issue 15, item 4: one statement instead of five reads): every figure
// from rows written straight into a real database — counter shards summed per step, runs in
// flight per step, UNCERTAIN messages, refused entries on each version's trigger step, a PURL
// step's links — for the whole journey and for one version, and never another journey's rows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeCounts, OperateError } from "./operate.ts";
import { startEngineHarness, type EngineHarness } from "./testing/harness.ts";

let h: EngineHarness;
let journeyId: string;
let v1: string;
let v2: string;
let otherVersion: string;

beforeAll(async () => {
  h = await startEngineHarness({ workers: false });
  const ws = h.workspaceId;
  // Version 1: t → p (PURL) → end; version 2 has another trigger step id (t2).
  ({ journeyId, versionId: v1 } = await h.publish("counted", [
    { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "p" },
    { id: "p", type: "action.purl", data: { page: "welcome" }, next: "end" },
  ]));
  ({ versionId: v2 } = await h.publish(
    "counted",
    [
      { id: "t2", type: "trigger.event", data: { event: "purchase" }, next: "p" },
      { id: "p", type: "action.purl", data: { page: "welcome" }, next: "end" },
    ],
    {},
    journeyId,
  ));
  const other = await h.publish("another journey", [
    { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "p" },
    { id: "p", type: "action.purl", data: { page: "welcome" }, next: "end" },
  ]);
  otherVersion = other.versionId;

  const counters: [string, string, string, number, number[]][] = [
    // version, step, journey, shard, [entered, completed, sent, failed, converted]
    [v1, "t", journeyId, 0, [3, 3, 0, 0, 0]],
    [v1, "t", journeyId, 1, [2, 2, 0, 0, 0]],
    [v1, "p", journeyId, 0, [4, 1, 0, 1, 2]],
    [v2, "t2", journeyId, 3, [7, 6, 0, 0, 0]],
    [otherVersion, "t", other.journeyId, 0, [100, 100, 0, 0, 0]],
    [otherVersion, "p", other.journeyId, 0, [100, 100, 0, 0, 0]],
  ];
  for (const [
    versionId,
    stepId,
    j,
    shard,
    [entered, completed, sent, failed, converted],
  ] of counters)
    await h.db.query(
      `INSERT INTO "StepCounter" ("versionId", "stepId", shard, "journeyId", entered, completed, sent, failed, converted)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [versionId, stepId, shard, j, entered, completed, sent, failed, converted],
    );

  const runs: [string, string, string, string, string | null][] = [
    // id, journey, version, status, current step
    ["r1", journeyId, v1, "ACTIVE", "p"],
    ["r2", journeyId, v1, "WAITING", "p"],
    ["r3", journeyId, v1, "WAITING", "t"],
    ["r4", journeyId, v1, "COMPLETED", "end"],
    ["r5", journeyId, v1, "WAITING", null],
    ["r6", journeyId, v2, "WAITING", "p"],
    ["r7", journeyId, v2, "FAILED", "p"],
    ["r8", other.journeyId, otherVersion, "WAITING", "p"],
  ];
  for (const [id, j, versionId, status, step] of runs)
    await h.db.query(
      `INSERT INTO "JourneyRun" (id, "workspaceId", "journeyId", "versionId", "customerId", "entryNumber",
                                 status, "currentStepId", "updatedAt")
       VALUES ($1, $2, $3, $4, 'c-' || $1, 1, $5::"RunStatus", $6, now())`,
      [id, ws, j, versionId, status, step],
    );

  const messages: [string, string, string, boolean][] = [
    // run, step, status, dismissed
    ["r1", "p", "UNCERTAIN", false],
    ["r6", "p", "UNCERTAIN", false],
    ["r2", "p", "UNCERTAIN", true],
    ["r4", "p", "SENT", false],
    ["r8", "p", "UNCERTAIN", false],
  ];
  for (const [runId, stepId, status, dismissed] of messages)
    await h.db.query(
      `WITH m AS (
         INSERT INTO "Message" (id, "workspaceId", "runId", "stepId", "runSeq", channel, "idempotencyKey",
                                status, "dismissedAt")
         VALUES ('m-' || $2, $1, $2, $3, 1, 'purl', 'k-' || $2, $4::"MessageStatus",
                 CASE WHEN $5 THEN now() END)
         RETURNING id, "idempotencyKey", "createdAt"
       )
       INSERT INTO "MessageKey" ("idempotencyKey", "messageId", "createdAt")
       SELECT "idempotencyKey", id, "createdAt" FROM m`,
      [ws, runId, stepId, status, dismissed],
    );

  const skips: [string, string, string, string][] = [
    // journey, version, customer, reason
    [journeyId, v1, "a", "activeRun"],
    [journeyId, v1, "b", "activeRun"],
    [journeyId, v1, "c", "filter"],
    [journeyId, v2, "d", "activeRun"],
    [other.journeyId, otherVersion, "e", "activeRun"],
  ];
  for (const [j, versionId, customerId, reason] of skips)
    await h.db.query(
      `INSERT INTO "EntrySkip" (id, "workspaceId", "journeyId", "versionId", "customerId", "triggerId", reason, detail)
       VALUES ('s-' || $4, $1, $2, $3, $4, 'ev-1', $5, 'why')`,
      [ws, j, versionId, customerId, reason],
    );

  const links: [string, string, number][] = [
    // token (= run), step, visits
    ["r1", "p", 2],
    ["r2", "p", 0],
    ["r6", "p", 0],
    ["r8", "p", 5],
  ];
  for (const [runId, stepId, visits] of links)
    await h.db.query(
      `INSERT INTO "Purl" (token, "workspaceId", "runId", "customerId", "messageId", page, visits, "stepId")
       VALUES ('tok-' || $2, $1, $2, 'c-' || $2, 'pm-' || $2, 'welcome', $3, $4)`,
      [ws, runId, visits, stepId],
    );
  for (const token of ["tok-r1", "tok-r1", "tok-r8"])
    await h.db.query(
      `INSERT INTO "FormSubmission" ("id", "workspaceId", "pageVersionId", "purlToken", "customerId", "formId",
                                     "idempotencyKey", fields)
       VALUES (gen_random_uuid()::text, $1, 'pv', $2, 'c', 'f', gen_random_uuid()::text, '{}')`,
      [ws, token],
    );
});

afterAll(async () => {
  await h?.close();
});

const zero = {
  entered: 0,
  waiting: 0,
  completed: 0,
  sent: 0,
  failed: 0,
  converted: 0,
  uncertain: 0,
};

describe("nodeCounts", () => {
  it("sums every version of the journey, and only its own rows", async () => {
    expect(await nodeCounts(h.ctx, h.workspaceId, journeyId)).toEqual({
      t: { ...zero, entered: 5, completed: 5, waiting: 1, refused: { activeRun: 2, filter: 1 } },
      t2: { ...zero, entered: 7, completed: 6, refused: { activeRun: 1 } },
      p: {
        ...zero,
        entered: 4,
        completed: 1,
        failed: 1,
        converted: 2,
        waiting: 3,
        uncertain: 2,
        page: { links: 3, visited: 1, visits: 2, submitted: 1 },
      },
    });
  });

  it("reads one version when asked", async () => {
    expect(await nodeCounts(h.ctx, h.workspaceId, journeyId, v1)).toEqual({
      t: { ...zero, entered: 5, completed: 5, waiting: 1, refused: { activeRun: 2, filter: 1 } },
      p: {
        ...zero,
        entered: 4,
        completed: 1,
        failed: 1,
        converted: 2,
        waiting: 2,
        uncertain: 1,
        page: { links: 2, visited: 1, visits: 2, submitted: 1 },
      },
    });
    expect(await nodeCounts(h.ctx, h.workspaceId, journeyId, v2)).toEqual({
      t2: { ...zero, entered: 7, completed: 6, refused: { activeRun: 1 } },
      p: {
        ...zero,
        waiting: 1,
        uncertain: 1,
        page: { links: 1, visited: 0, visits: 0, submitted: 0 },
      },
    });
  });

  it("refuses a journey of another workspace, an unknown journey and another journey's version", async () => {
    const elsewhere = await h.db.prisma.workspace.create({
      data: { name: "Elsewhere", slug: `${h.prefix}-elsewhere` },
    });
    const notFound = async (p: Promise<unknown>, message: RegExp) => {
      const err = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OperateError);
      expect(err).toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(message) });
    };
    await notFound(nodeCounts(h.ctx, elsewhere.id, journeyId), /No journey with that id/);
    await notFound(nodeCounts(h.ctx, h.workspaceId, "nope"), /No journey with that id/);
    await notFound(nodeCounts(h.ctx, elsewhere.id, journeyId, v1), /No journey with that id/);
    await notFound(
      nodeCounts(h.ctx, h.workspaceId, journeyId, otherVersion),
      /no version with that id/,
    );
    await notFound(nodeCounts(h.ctx, h.workspaceId, journeyId, "nope"), /no version with that id/);
  });
});
