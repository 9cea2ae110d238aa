import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processMaintenanceJob, processRunJob } from "@postpath/engine";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, TWO_WORKSPACES, type ApiTestEnv } from "../testing.ts";
import { demoJourneyDraft } from "../seed.ts";

describe("journeys router (real Postgres, createCaller)", () => {
  let env: ApiTestEnv<"a" | "b" | "viewer">;

  beforeAll(async () => {
    env = await openApiTestEnv(TWO_WORKSPACES, { prefix: "api" });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("refuses anonymous callers and viewers' writes", async () => {
    expect((await rejects(createCaller(env.ctxFor(null)).journeys.list())).code).toBe(
      "UNAUTHORIZED",
    );
    const err = await rejects(
      createCaller(env.ctxFor(env.users.viewer)).journeys.create({ name: "x" }),
    );
    expect(err.code).toBe("FORBIDDEN");
  });

  it("keeps workspaces apart: another workspace's journey is not found", async () => {
    const { id } = await createCaller(env.ctxFor(env.users.a)).journeys.create({
      name: "A's journey",
    });
    const b = createCaller(env.ctxFor(env.users.b));
    expect((await rejects(b.journeys.get({ id }))).code).toBe("NOT_FOUND");
    expect((await rejects(b.journeys.publish({ id }))).code).toBe("NOT_FOUND");
    expect((await b.journeys.list()).map((j) => j.id)).not.toContain(id);
    expect(
      (await createCaller(env.ctxFor(env.users.viewer)).journeys.list()).map((j) => j.id),
    ).toContain(id);
  });

  it("lists a page at a time, newest edit first, and finds journeys by part of their name", async () => {
    const b = createCaller(env.ctxFor(env.users.b));
    for (const name of ["Paged 1", "Paged 2", "Paged 3", "Paged 4", "Paged 5", "100% off_x"])
      await b.journeys.create({ name });
    const all = await b.journeys.list({ limit: 200 });
    const paged: string[] = [];
    let cursor: { updatedAt: string; id: string } | null = null;
    for (;;) {
      const page = await b.journeys.list({ limit: 2, cursor });
      expect(page.length).toBeLessThanOrEqual(2);
      paged.push(...page.map((j) => j.id));
      const last = page.at(-1);
      if (page.length < 2 || !last) break;
      cursor = { updatedAt: last.updatedAt, id: last.id };
    }
    expect(paged).toEqual(all.map((j) => j.id));
    const times = all.map((j) => j.updatedAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect((await b.journeys.list({ limit: 200, search: "paged" })).map((j) => j.name)).toEqual([
      "Paged 5",
      "Paged 4",
      "Paged 3",
      "Paged 2",
      "Paged 1",
    ]);
    // `%` and `_` are letters in a search, not wildcards.
    expect((await b.journeys.list({ search: "0% off_" })).map((j) => j.name)).toEqual([
      "100% off_x",
    ]);
    expect(await b.journeys.list({ search: "0%_off" })).toEqual([]);
    const bad = await rejects(b.journeys.list({ cursor: { updatedAt: "yesterday", id: "x" } }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toContain("cursor.updatedAt");
    expect((await rejects(b.journeys.list({ limit: 0 }))).code).toBe("BAD_REQUEST");
  });

  it("refuses a save based on an older revision (two tabs) instead of overwriting", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id, draftRevision } = await a.journeys.create({ name: "Two tabs" });
    const first = await a.journeys.saveDraft({
      id,
      draft: demoJourneyDraft(5),
      revision: draftRevision,
    });
    expect(first.revision).toBe(draftRevision + 1);
    const err = await rejects(
      a.journeys.saveDraft({ id, draft: demoJourneyDraft(10), revision: draftRevision }),
    );
    expect(err.code).toBe("CONFLICT");
    const stored = await a.journeys.get({ id });
    expect(stored.draft.nodes.find((n) => n.id === "wait")?.data).toMatchObject({ amount: 5 });
  });

  it("publishes valid drafts as numbered versions and refuses invalid ones with issues per node", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id } = await a.journeys.create({ name: "Publish me", draft: demoJourneyDraft(1) });
    expect((await a.journeys.publish({ id })).version).toBe(1);
    expect((await a.journeys.publish({ id })).version).toBe(2);
    const versions = await env.db.prisma.journeyVersion.findMany({
      where: { journeyId: id },
      orderBy: { version: "asc" },
    });
    expect(versions.map((v) => v.status)).toEqual(["SUPERSEDED", "LIVE"]);

    const broken = demoJourneyDraft(1);
    broken.edges = broken.edges.filter((e) => e.source !== "wait"); // the wait leads nowhere
    const { id: badId } = await a.journeys.create({ name: "Broken", draft: broken });
    const err = await rejects(a.journeys.publish({ id: badId }));
    expect(err.code).toBe("BAD_REQUEST");
    const issues = (err.cause as unknown as { issues: { nodeId?: string; code: string }[] }).issues;
    expect(issues.some((i) => i.nodeId === "wait")).toBe(true);
    expect(await env.db.prisma.journeyVersion.count({ where: { journeyId: badId } })).toBe(0);
  });

  it("rejects malformed input with the field that is wrong", async () => {
    const err = await rejects(
      createCaller(env.ctxFor(env.users.a)).journeys.create({ name: "   " }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/name/i);
  });
  it("creates from the template gallery, duplicates and archives", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const gallery = await a.journeys.templates();
    expect(gallery.map((t) => t.id)).toContain("machine-registration");
    const { id } = await a.journeys.createFromTemplate({ templateId: "machine-registration" });
    const created = await a.journeys.get({ id });
    expect(created.name).toBe("Machine registration");
    expect(created.draft.nodes.map((n) => n.type)).toContain("wait.event");
    expect((await rejects(a.journeys.createFromTemplate({ templateId: "nope" }))).code).toBe(
      "NOT_FOUND",
    );

    const copy = await a.journeys.duplicate({ id });
    const copied = await a.journeys.get({ id: copy.id });
    expect(copied.name).toBe("Machine registration (copy)");
    expect(copied.draft).toEqual(created.draft);
    expect(copied.status).toBe("DRAFT");

    await a.journeys.archive({ id: copy.id });
    expect((await a.journeys.list()).map((j) => j.id)).not.toContain(copy.id);
    expect((await a.journeys.get({ id: copy.id })).status).toBe("ARCHIVED");
    // Another workspace cannot duplicate it.
    expect(
      (await rejects(createCaller(env.ctxFor(env.users.b)).journeys.duplicate({ id }))).code,
    ).toBe("NOT_FOUND");
  });

  it("'Use template' also creates the template's pages as drafts, never replacing a page at that address (issue 14)", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const gallery = await a.journeys.templates();
    expect(gallery.find((t) => t.id === "machine-registration")?.pages).toEqual([
      { slug: "register-machine", name: "Register your machine" },
      { slug: "machine-registered", name: "Machine registered" },
    ]);
    // Pages an earlier test's "Use template" made, gone: this one starts from none.
    const slugs = ["register-machine", "machine-registered"];
    const ws = [env.users.a.workspaceId, env.users.b.workspaceId];
    const made = await env.db.prisma.page.findMany({
      where: { workspaceId: { in: ws }, slug: { in: slugs } },
      select: { id: true },
    });
    const ids = made.map((p) => p.id);
    await env.db.prisma.pageVersion.deleteMany({ where: { pageId: { in: ids } } });
    await env.db.prisma.page.deleteMany({ where: { id: { in: ids } } });
    // The workspace already has its own thank-you page: it stays as it is.
    const own = await a.pages.create({ name: "Our thanks", slug: "machine-registered" });
    const first = await a.journeys.createFromTemplate({ templateId: "machine-registration" });
    expect(first.pages.map((p) => [p.slug, p.created])).toEqual([
      ["register-machine", true],
      ["machine-registered", false],
    ]);
    expect(first.pages[1]?.id).toBe(own.id);
    expect((await a.pages.get({ id: own.id })).name).toBe("Our thanks");
    const page = await a.pages.get({ id: first.pages[0]!.id });
    expect(page).toMatchObject({ name: "Register your machine", publishedVersion: null });
    expect(JSON.stringify(page.draft)).toContain('"formId":"registration"');
    // The starter publishes as it is, and the journey's settings count entries per serial.
    expect((await a.pages.publish({ id: page.id })).version).toBe(1);
    const journey = await a.journeys.get({ id: first.id });
    expect(journey.draft.settings).toMatchObject({ entry: { perValueOf: "serial" } });
    // A second use finds both pages; without pages, none are touched.
    const second = await a.journeys.createFromTemplate({ templateId: "machine-registration" });
    expect(second.pages.map((p) => p.created)).toEqual([false, false]);
    const bare = await a.journeys.createFromTemplate({
      templateId: "machine-registration",
      withPages: false,
    });
    expect(bare.pages).toEqual([]);
    // Another workspace gets its own copies.
    const b = createCaller(env.ctxFor(env.users.b));
    const other = await b.journeys.createFromTemplate({ templateId: "machine-registration" });
    expect(other.pages.map((p) => p.created)).toEqual([true, true]);
  });

  it("refuses to archive a live journey", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id } = await a.journeys.create({ name: "Live one", draft: demoJourneyDraft(1) });
    await a.journeys.publish({ id });
    expect((await rejects(a.journeys.archive({ id }))).code).toBe("PRECONDITION_FAILED");
  });

  it("lists versions and shows what changed since the live version", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id, draftRevision } = await a.journeys.create({
      name: "Versions",
      draft: demoJourneyDraft(1),
    });
    // Runs per version, from the engine's counters: two customers entered version 1, one entered
    // version 2 (enrolled, then their first job run).
    const enter = async (...externalIds: string[]) => {
      for (const externalId of externalIds)
        await env.db.prisma.customer.create({
          data: { workspaceId: env.users.a.workspaceId, externalId },
        });
      const { enrolmentId } = await a.operate.enrol({ journeyId: id, externalIds });
      await processMaintenanceJob(env.engine, { kind: "enrolment", enrolmentId });
      for (const run of await env.db.prisma.journeyRun.findMany({
        where: { journeyId: id, seq: 0 },
      }))
        await processRunJob(env.engine, { runId: run.id, seq: 0, input: { kind: "entered" } });
    };
    const first = await a.journeys.diff({ id });
    expect(first.ok && first.liveVersion).toBe(null);
    expect(first.diff?.added.length).toBe(demoJourneyDraft(1).nodes.length);
    await a.journeys.publish({ id });
    expect((await a.journeys.diff({ id })).diff?.same).toBe(true);
    await enter("v1-a", "v1-b");

    const edited = demoJourneyDraft(7);
    edited.settings = { ...edited.settings, timezone: "Europe/Berlin" };
    await a.journeys.saveDraft({ id, draft: edited, revision: draftRevision });
    const d = await a.journeys.diff({ id });
    expect(d.liveVersion).toBe(1);
    expect(d.diff?.changed).toEqual([{ id: "wait", type: "wait.duration", fields: ["amount"] }]);
    expect(d.diff?.settings).toEqual(["timezone"]);
    expect(d.diff?.same).toBe(false);
    await a.journeys.publish({ id });
    await enter("v2-a");

    const versions = await a.journeys.versions({ id });
    expect(versions.map((v) => [v.version, v.status, v.publishedBy, v.runs])).toEqual([
      [2, "LIVE", "a", 1],
      [1, "SUPERSEDED", "a", 2],
    ]);
    expect((await a.journeys.version({ journeyId: id, version: 1 })).runs).toBe(2);
  });

  it("reports an invalid draft's issues instead of a diff", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id } = await a.journeys.create({ name: "Blank" });
    const d = await a.journeys.diff({ id });
    expect(d.ok).toBe(false);
    expect(d.issues.some((i) => i.nodeId === "trigger")).toBe(true);
  });
  it("saves a draft whose settings are still half-filled, and reports them as issues", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id, draftRevision } = await a.journeys.create({
      name: "Half-filled",
      draft: demoJourneyDraft(1),
    });
    const draft = {
      ...demoJourneyDraft(1),
      settings: { timezone: "Mars/Olympus", quietHours: { start: "21:00" } },
    };
    const saved = await a.journeys.saveDraft({ id, draft, revision: draftRevision });
    expect(saved.issues.map((i) => i.field)).toEqual(expect.arrayContaining(["settings.timezone"]));
    expect((await a.journeys.get({ id })).draft.settings).toEqual(draft.settings);
    expect((await rejects(a.journeys.publish({ id }))).code).toBe("BAD_REQUEST");
  });
});
