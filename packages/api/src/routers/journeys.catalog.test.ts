// Template variables checked against what the workspace has observed (real Postgres): a typo in
// an attribute name is a warning naming the step, the field and the variable, with the closest
// known name; a fresh workspace (nothing observed) gets no such check; warnings never block.
import { draftFromSteps } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, type ApiTestEnv } from "../testing.ts";
import { CATALOG_TTL_MS, workspaceCatalog } from "./journeys.catalog.ts";

/** Event trigger "purchase" → an email whose subject is `subject` → exit. */
function draftWith(subject: string) {
  return draftFromSteps([
    { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "mail" },
    {
      id: "mail",
      type: "action.email",
      data: { label: "Thank you", subject, body: "We hope you love it." },
      next: "x",
    },
    { id: "x", type: "flow.exit" },
  ]);
}

describe("journeys: template variables against the workspace catalogue (real Postgres)", () => {
  let env: ApiTestEnv<"observed" | "fresh" | "viewer">;

  beforeAll(async () => {
    env = await openApiTestEnv(
      [
        ["observed", "ws-observed", "MARKETER"],
        ["fresh", "ws-fresh", "MARKETER"],
        ["viewer", "ws-observed", "VIEWER"],
      ] as const,
      { prefix: "catalog" },
    );
    // Everything observed is in place before the first call (the catalogue is cached a minute).
    const workspaceId = env.users.observed.workspaceId;
    const ada = await env.db.prisma.customer.create({
      data: { workspaceId, externalId: "ada", attributes: { first_name: "Ada", tier: "gold" } },
    });
    await env.db.prisma.customer.create({
      data: { workspaceId, externalId: "bob", attributes: { first_name: "Bob" } },
    });
    // Attributes that are not an object are skipped, not an error.
    await env.db.prisma.customer.create({
      data: { workspaceId, externalId: "odd", attributes: ["not", "an", "object"] },
    });
    await env.db.prisma.event.create({
      data: {
        workspaceId,
        customerId: ada.id,
        name: "purchase",
        properties: { order_id: "o-1", total: 149 },
        timestamp: new Date("2026-01-15T09:00:00Z"),
        messageId: "m-1",
      },
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("journeys.catalog lists what the workspace has observed; a fresh workspace has nothing", async () => {
    // prettier-ignore
    const FIELDS = ["id", "externalId", "email", "phone", "timezone", "attributes", "tags", "segments", "lifecycle_stage"];
    expect(await createCaller(env.ctxFor(env.users.viewer)).journeys.catalog()).toEqual({
      attributes: ["first_name", "tier"],
      eventProperties: { purchase: ["order_id", "total"] },
      // Issue 16: the pickers' details — kinds of value, examples, each event's share.
      attributeDetails: {
        first_name: { types: ["string"], examples: ["Ada", "Bob"] },
        tier: { types: ["string"], examples: ["gold"] },
      },
      eventDetails: {
        purchase: {
          sampled: 1,
          properties: {
            order_id: { types: ["string"], examples: ["o-1"] },
            total: { types: ["number"], examples: ["149"] },
          },
        },
      },
      eventSample: 1,
      customerFields: FIELDS,
      segments: [], // issue 16: the saved segments' ids (for "unknown segment" warnings)
      pages: {}, // issue 16: landing pages by address, and coupon pools (page / pool warnings)
      couponPools: [],
    });
    expect(await createCaller(env.ctxFor(env.users.fresh)).journeys.catalog()).toEqual({
      customerFields: FIELDS,
      segments: [],
      pages: {},
      couponPools: [],
    });
  });

  it("saveDraft warns about {{ frist_name }} (step, field, variable, closest name); publishing still works", async () => {
    const api = createCaller(env.ctxFor(env.users.observed));
    const { id, draftRevision } = await api.journeys.create({ name: "Typo" });
    const saved = await api.journeys.saveDraft({
      id,
      draft: draftWith("Thanks {{ frist_name }}"),
      revision: draftRevision,
    });
    expect(saved.issues).toEqual([
      {
        code: "template.unknown_variable",
        severity: "warning",
        nodeId: "mail",
        field: "subject",
        message: `{{ frist_name }}: no trigger, customer attribute or earlier step provides "frist_name". Did you mean {{ first_name }}?`,
        suggestion: "first_name",
      },
    ]);
    // The same from journeys.validate, and in the publish preview, which still allows publishing.
    expect(
      (await api.journeys.validate({ draft: draftWith("Thanks {{ frist_name }}") })).issues,
    ).toEqual(saved.issues);
    const diff = await api.journeys.diff({ id });
    expect(diff.ok).toBe(true);
    expect(diff.issues).toEqual(saved.issues);
    expect((await api.journeys.publish({ id })).version).toBe(1);
  });

  it("observed event properties are checked too, as warnings", async () => {
    const api = createCaller(env.ctxFor(env.users.observed));
    const { issues } = await api.journeys.validate({
      draft: draftWith("Order {{ event.order_id }}: {{ event.totl }}"),
    });
    expect(issues).toEqual([
      expect.objectContaining({
        code: "template.unknown_variable",
        severity: "warning",
        nodeId: "mail",
        field: "subject",
        suggestion: "event.total",
      }),
    ]);
  });

  it("{{ first_name }} and {{ tier }} get nothing", async () => {
    const api = createCaller(env.ctxFor(env.users.observed));
    const { id, draftRevision } = await api.journeys.create({ name: "Fine" });
    const saved = await api.journeys.saveDraft({
      id,
      draft: draftWith("Thanks {{ first_name }}, {{ tier }} member"),
      revision: draftRevision,
    });
    expect(saved.issues).toEqual([]);
  });

  it("a fresh workspace (no customers yet) gets no catalogue check", async () => {
    const api = createCaller(env.ctxFor(env.users.fresh));
    const { id, draftRevision } = await api.journeys.create({ name: "Early" });
    const saved = await api.journeys.saveDraft({
      id,
      draft: draftWith("Thanks {{ frist_name }} {{ event.anything }}"),
      revision: draftRevision,
    });
    expect(saved.issues).toEqual([]);
    expect((await api.journeys.validate({ draft: draftWith("{{ frist_name }}") })).issues).toEqual(
      [],
    );
  });

  it("is cached per workspace for CATALOG_TTL_MS (the clock passed in, not waited for)", async () => {
    const ws = await env.db.prisma.workspace.create({ data: { name: "cache", slug: "ws-cache" } });
    const t0 = 1_000_000;
    expect(await workspaceCatalog(env.db.prisma, ws.id, t0)).toEqual({});
    await env.db.prisma.customer.create({
      data: { workspaceId: ws.id, externalId: "c", attributes: { plan: "pro" } },
    });
    expect(await workspaceCatalog(env.db.prisma, ws.id, t0 + CATALOG_TTL_MS - 1)).toEqual({});
    expect(await workspaceCatalog(env.db.prisma, ws.id, t0 + CATALOG_TTL_MS)).toEqual({
      attributes: ["plan"],
    });
  });
});
