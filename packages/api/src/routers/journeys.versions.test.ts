// Viewing an old version and restoring it as the draft (issue 5: versions list, rollback).
import { Prisma } from "@postpath/db";
import { compile, parsePlan } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, TWO_WORKSPACES, type ApiTestEnv } from "../testing.ts";
import { demoJourneyDraft } from "../seed.ts";
import { diffPlans } from "./journeys.diff.ts";

describe("journey versions: view and restore (real Postgres, createCaller)", () => {
  let env: ApiTestEnv<"a" | "b" | "viewer">;

  beforeAll(async () => {
    env = await openApiTestEnv(TWO_WORKSPACES, { prefix: "apiv" });
  });
  afterAll(async () => {
    await env?.close();
  });

  /** A journey published twice: v1 waits 5 s, v2 waits 60 s and has a time zone; the draft is v2's. */
  async function twoVersions(name: string) {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id, draftRevision } = await a.journeys.create({ name, draft: demoJourneyDraft(5) });
    await a.journeys.publish({ id });
    const v2 = demoJourneyDraft(60);
    v2.settings = { ...v2.settings, timezone: "Europe/Berlin" };
    // A canvas name and a moved step: restoring keeps what the canvas knows about kept steps.
    v2.nodes = v2.nodes.map((n) =>
      n.id === "email"
        ? { ...n, position: { x: 420, y: 77 }, data: { ...n.data, label: "Thanks" } }
        : n,
    );
    const saved = await a.journeys.saveDraft({ id, draft: v2, revision: draftRevision });
    await a.journeys.publish({ id });
    return { a, id, revision: saved.revision };
  }

  it("returns the requested version's document, and what restoring it would change", async () => {
    const { a, id } = await twoVersions("View v1");
    const v1 = await a.journeys.version({ journeyId: id, version: 1 });
    expect(v1.version).toBe(1);
    expect(v1.status).toBe("SUPERSEDED");
    expect(v1.publishedBy).toBe("a");
    expect(v1.draft.nodes.find((n) => n.id === "wait")?.data).toMatchObject({ amount: 5 });
    expect(v1.draft.nodes.map((n) => n.id)).toEqual(["trigger", "wait", "email", "exit"]);
    // The document compiles to exactly the stored plan.
    const stored = await env.db.prisma.journeyVersion.findFirstOrThrow({
      where: { journeyId: id, version: 1 },
    });
    const recompiled = compile(v1.draft);
    expect(recompiled.ok && recompiled.plan).toEqual(parsePlan(stored.plan));
    // It is the very document that was published (layout and names included), not v2's.
    expect(v1.draft).toEqual(JSON.parse(JSON.stringify(demoJourneyDraft(5))));
    expect(v1.draft.nodes.find((n) => n.id === "email")?.data.label).not.toBe("Thanks");
    // Compared with the draft (= v2): the wait's amount and the time zone go back.
    expect(v1.diff?.changed).toEqual([{ id: "wait", type: "wait.duration", fields: ["amount"] }]);
    expect(v1.diff?.settings).toEqual(["timezone"]);

    const live = await a.journeys.version({ journeyId: id });
    expect(live.version).toBe(2);
    expect(live.diff?.same).toBe(true);
    expect(live.draft.nodes.find((n) => n.id === "wait")?.data).toMatchObject({ amount: 60 });

    expect((await rejects(a.journeys.version({ journeyId: id, version: 9 }))).code).toBe(
      "NOT_FOUND",
    );
    const b = createCaller(env.ctxFor(env.users.b));
    expect((await rejects(b.journeys.version({ journeyId: id, version: 1 }))).code).toBe(
      "NOT_FOUND",
    );
  });

  it("rebuilds versions published before documents were kept from their plan, keeping what the draft knows", async () => {
    const { a, id } = await twoVersions("Old version");
    await env.db.prisma.journeyVersion.updateMany({
      where: { journeyId: id, version: 1 },
      data: { document: Prisma.DbNull },
    });
    const v1 = await a.journeys.version({ journeyId: id, version: 1 });
    const stored = await env.db.prisma.journeyVersion.findFirstOrThrow({
      where: { journeyId: id, version: 1 },
    });
    const recompiled = compile(v1.draft);
    expect(recompiled.ok && recompiled.plan).toEqual(parsePlan(stored.plan));
    // Steps still in the draft keep their place and canvas name.
    expect(v1.draft.nodes.find((n) => n.id === "email")).toMatchObject({
      position: { x: 420, y: 77 },
      data: { label: "Thanks" },
    });
  });

  it("lets a viewer read a version but not restore it", async () => {
    const { id, revision } = await twoVersions("Viewer");
    const viewer = createCaller(env.ctxFor(env.users.viewer));
    expect((await viewer.journeys.version({ journeyId: id, version: 1 })).version).toBe(1);
    const err = await rejects(
      viewer.journeys.restoreVersion({ journeyId: id, version: 1, revision }),
    );
    expect(err.code).toBe("FORBIDDEN");
    const j = await env.db.prisma.journey.findUniqueOrThrow({ where: { id } });
    expect(j.draftRevision).toBe(revision);
    expect(
      await env.db.prisma.auditLog.count({
        where: { targetId: id, action: "journey.restoreVersion" },
      }),
    ).toBe(0);
  });

  it("refuses a restore based on a stale revision (another tab saved) with a clear message", async () => {
    const { a, id, revision } = await twoVersions("Stale");
    const other = demoJourneyDraft(99);
    await a.journeys.saveDraft({ id, draft: other, revision });
    const err = await rejects(a.journeys.restoreVersion({ journeyId: id, version: 1, revision }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/changed in another tab.*version 1 was not restored/);
    const stored = await a.journeys.get({ id });
    expect(stored.draftRevision).toBe(revision + 1);
    expect(stored.draft.nodes.find((n) => n.id === "wait")?.data).toMatchObject({ amount: 99 });
    expect(
      await env.db.prisma.auditLog.count({
        where: { targetId: id, action: "journey.restoreVersion" },
      }),
    ).toBe(0);
  });

  it("restores a version as the draft (audited); publishing then creates version N+1 equal to it", async () => {
    const { a, id, revision } = await twoVersions("Roll back");
    const versionsBefore = await env.db.prisma.journeyVersion.findMany({
      where: { journeyId: id },
      orderBy: { version: "asc" },
      select: { version: true, status: true, plan: true },
    });
    const restored = await a.journeys.restoreVersion({ journeyId: id, version: 1, revision });
    expect(restored).toEqual({ version: 1, revision: revision + 1, issues: [] });

    // The draft is v1's document; nothing published or running changed.
    const j = await a.journeys.get({ id });
    expect(j.draftRevision).toBe(revision + 1);
    expect(j.status).toBe("LIVE");
    expect(j.liveVersion).toBe(2);
    expect(j.draft.nodes.find((n) => n.id === "wait")?.data).toMatchObject({ amount: 5 });
    expect(
      await env.db.prisma.journeyVersion.findMany({
        where: { journeyId: id },
        orderBy: { version: "asc" },
        select: { version: true, status: true, plan: true },
      }),
    ).toEqual(versionsBefore);
    const audit = await env.db.prisma.auditLog.findFirstOrThrow({
      where: { targetId: id, action: "journey.restoreVersion" },
    });
    expect(audit.actorId).toBe(env.users.a.id);
    expect(audit.detail).toEqual({ version: 1, revision: revision + 1 });

    // The autosave's next save names the new revision; the old one is refused.
    expect((await rejects(a.journeys.saveDraft({ id, draft: j.draft, revision }))).code).toBe(
      "CONFLICT",
    );

    // Publish shows the way back to v1, then stores it as v3.
    const d = await a.journeys.diff({ id });
    expect(d.diff?.changed.map((c) => c.id)).toEqual(["wait"]);
    expect((await a.journeys.publish({ id })).version).toBe(3);
    const [v1, v3] = await Promise.all(
      [1, 3].map((version) =>
        env.db.prisma.journeyVersion.findFirstOrThrow({ where: { journeyId: id, version } }),
      ),
    );
    expect(parsePlan(v3!.plan)).toEqual(parsePlan(v1!.plan));
    expect(diffPlans(parsePlan(v1!.plan), parsePlan(v3!.plan)).same).toBe(true);
    expect((await a.journeys.versions({ id })).map((v) => [v.version, v.status])).toEqual([
      [3, "LIVE"],
      [2, "SUPERSEDED"],
      [1, "SUPERSEDED"],
    ]);
  });

  it("reports an invalid draft's problem count instead of a comparison", async () => {
    const { a, id, revision } = await twoVersions("Broken draft");
    const broken = demoJourneyDraft(5);
    broken.edges = broken.edges.filter((e) => e.source !== "wait");
    await a.journeys.saveDraft({ id, draft: broken, revision });
    const v1 = await a.journeys.version({ journeyId: id, version: 1 });
    expect(v1.diff).toBeNull();
    expect(v1.draftIssues).toBeGreaterThan(0);
    expect(v1.draftRevision).toBe(revision + 1);
  });
});
