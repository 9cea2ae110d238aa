// issue 14, item 6: the funnel per page on real Postgres (and Redis for the visit's event) —
// links made for a page → opened (unique and total) → form sent → goal reached, per page, per
// journey step that made the links and per published version; the canvas's PURL step counts;
// visits written to the run's trace.
import { visitPurl } from "@postpath/engine";
import { compile, draftFromSteps } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, TWO_WORKSPACES, type ApiTestEnv } from "../testing.ts";

describe("pages.funnel (issue 14)", () => {
  let env: ApiTestEnv<"a" | "b" | "viewer">;
  beforeAll(async () => {
    env = await openApiTestEnv(TWO_WORKSPACES, { prefix: "funnel" });
  });
  afterAll(async () => {
    await env?.close();
  });

  let n = 0;
  /** A customer, a run of `journeyId` and a personal link made by `stepId` for `page`. */
  async function link(workspaceId: string, journeyId: string, stepId: string, page: string) {
    n++;
    const prisma = env.db.prisma;
    const customer = await prisma.customer.create({
      data: { workspaceId, externalId: `f-${n}`, attributes: {} },
    });
    const run = await prisma.journeyRun.create({
      data: {
        workspaceId,
        journeyId,
        versionId: `${journeyId}-v1`,
        customerId: customer.id,
        entryNumber: 1,
        status: "ACTIVE",
      },
    });
    const token = `fun_${n}_${Math.random().toString(36).slice(2)}`;
    await prisma.purl.create({
      data: {
        token,
        workspaceId,
        runId: run.id,
        customerId: customer.id,
        messageId: `m-${token}`,
        stepId,
        page,
        params: {},
      },
    });
    return { token, customerId: customer.id, runId: run.id };
  }

  /** The version's plan: the two steps that make the links ("card", "reminder"). */
  const compiled = compile(
    draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "card" },
      { id: "card", type: "action.purl", data: { page: "register-machine" }, next: "reminder" },
      { id: "reminder", type: "action.purl", data: { page: "register-machine" }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]),
  );
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const plan = compiled.plan;

  async function journey(workspaceId: string, name: string) {
    const j = await env.db.prisma.journey.create({
      data: { workspaceId, name, draft: {}, status: "LIVE" },
    });
    await env.db.prisma.journeyVersion.create({
      data: {
        id: `${j.id}-v1`,
        journeyId: j.id,
        workspaceId,
        version: 1,
        schemaVersion: plan.schemaVersion,
        plan: JSON.parse(JSON.stringify(plan)) as object,
        triggerType: "event",
      },
    });
    return j.id;
  }

  async function submission(
    l: { token: string; customerId: string },
    pageVersionId: string,
    key: string,
  ) {
    await env.db.prisma.formSubmission.create({
      data: {
        workspaceId: env.users.a.workspaceId,
        pageVersionId,
        purlToken: l.token,
        customerId: l.customerId,
        formId: "registration",
        idempotencyKey: `${l.token}:${key}`,
        fields: {},
      },
    });
  }

  it("counts the mail drop, unique and total visits, submissions and goals per page, step and version; traces visits", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const ws = env.users.a.workspaceId;
    const prisma = env.db.prisma;
    const { id: pageId } = await a.pages.create({ name: "Register", slug: "register-machine" });
    await a.pages.publish({ id: pageId });
    const j1 = await journey(ws, "Machine registration");
    const card = await Promise.all(
      [1, 2, 3, 4].map(() => link(ws, j1, "card", "register-machine")),
    );
    const reminder = await link(ws, j1, "reminder", "register-machine");
    // Not in this page's funnel: a link to another page, a link in another workspace.
    const other = await link(ws, j1, "card", "other-page");
    const foreign = await link(env.users.b.workspaceId, "jb", "card", "register-machine");
    const [c1, c2, c3] = card as [typeof other, typeof other, typeof other];

    // Version 1: the first customer opens the link twice (one reload).
    expect((await visitPurl(env.engine, c1.token))?.published?.version).toBe(1);
    expect((await visitPurl(env.engine, c1.token))?.visits).toBe(2);
    const v1 = await prisma.pageVersion.findFirstOrThrow({ where: { pageId, version: 1 } });
    await submission(c1, v1.id, "k1");
    // Version 2: an hour later the first customer comes back; two more open theirs once.
    await a.pages.publish({ id: pageId });
    const v2 = await prisma.pageVersion.findFirstOrThrow({ where: { pageId, version: 2 } });
    await prisma.purl.update({
      where: { token: c1.token },
      data: { lastVisitAt: new Date(Date.now() - 3_600_000) },
    });
    for (const l of [c1, c2, reminder, other, foreign])
      expect(await visitPurl(env.engine, l.token)).not.toBeNull();
    await submission(c1, v2.id, "k2");
    await submission(c2, v2.id, "k3");
    // Runs that reached the goal: the first two customers'.
    for (const runId of [c1.runId, c2.runId])
      await prisma.runTrace.create({ data: { runId, kind: "converted", detail: { goal: "g" } } });
    // An expired link counts nothing.
    await prisma.purl.update({ where: { token: c3.token }, data: { expiresAt: new Date(1000) } });
    expect(await visitPurl(env.engine, c3.token)).toBeNull();

    const funnel = await createCaller(env.ctxFor(env.users.viewer)).pages.funnel({ id: pageId });
    expect(funnel).toMatchObject({
      links: 5,
      customers: 5,
      visited: 3,
      visitors: 3,
      visits: 5,
      submitted: 2,
      submitters: 2,
      submissions: 3,
      runs: 5,
      reachedGoal: 2,
    });
    expect(funnel.steps).toEqual([
      {
        journeyId: j1,
        journeyName: "Machine registration",
        stepId: "card",
        links: 4,
        customers: 4,
        visited: 2,
        visitors: 2,
        visits: 4,
        started: 0,
        submitted: 2,
        submitters: 2,
        submissions: 3,
        runs: 4,
        reachedGoal: 2,
      },
      expect.objectContaining({
        stepId: "reminder",
        links: 1,
        visited: 1,
        visits: 1,
        submitted: 0,
      }),
    ]);
    expect(funnel.versions).toEqual([
      { version: 2, visits: 3, visitors: 3, submissions: 2, submitters: 2 },
      { version: 1, visits: 2, visitors: 1, submissions: 1, submitters: 1 },
    ]);

    // The run's trace: the first opening and the one an hour later, not the reload.
    const traces = await prisma.runTrace.findMany({
      where: { runId: c1.runId, kind: "page.visited" },
      orderBy: { id: "asc" },
    });
    expect(traces.map((t) => (t.detail as { text: string; version: number }).text)).toEqual([
      "Opened personal page register-machine",
      "Opened personal page register-machine",
    ]);
    expect(traces.map((t) => (t.detail as { version: number }).version)).toEqual([1, 2]);
    expect(traces[0]?.stepId).toBe("card");
    expect(await prisma.pageVisit.count({ where: { token: c1.token } })).toBe(3);

    // The canvas: the PURL steps' counts through the operate router.
    for (const [stepId, shard] of [
      ["card", 0],
      ["reminder", 0],
    ] as const)
      await prisma.stepCounter.create({
        data: { versionId: `${j1}-v1`, stepId, shard, journeyId: j1, entered: 1 },
      });
    const counts = await a.operate.nodeCounts({ journeyId: j1 });
    // "other-page" links were made by the same step: the step's links are all of its links.
    expect(counts["card"]?.page).toEqual({ links: 5, visited: 3, visits: 5, submitted: 2 });
    expect(counts["reminder"]?.page).toEqual({ links: 1, visited: 1, visits: 1, submitted: 0 });

    // Another workspace's page is not found.
    expect(
      (await rejects(createCaller(env.ctxFor(env.users.b)).pages.funnel({ id: pageId }))).code,
    ).toBe("NOT_FOUND");
  });
});
