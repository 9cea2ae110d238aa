// Issue 16: the pickers' catalogue on real Postgres — per attribute and event property the kinds
// of value seen and up to three examples (the most common first, cut to a bounded length), and
// per event name how many of the sampled events had it; bounded however much was observed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiTestEnv, type ApiTestEnv } from "../testing.ts";
import { EXAMPLE_CHARS, MAX_EXAMPLES, catalogDetails } from "./journeys.catalog.ts";

describe("issue 16: catalogue details for the pickers (real Postgres)", () => {
  let env: ApiTestEnv<"m">;
  let workspaceId: string;

  beforeAll(async () => {
    env = await openApiTestEnv([["m", "ws-details", "MARKETER"]] as const, {
      prefix: "catalog_details",
    });
    workspaceId = env.users.m.workspaceId;
    const long = "x".repeat(EXAMPLE_CHARS + 40);
    // plan: "pro" ×3, "free" ×2, "team" ×1, "edu" ×1 → the three most common, most common first.
    const plans = ["pro", "pro", "pro", "free", "free", "team", "edu"];
    const customers = await Promise.all(
      plans.map((plan, i) =>
        env.db.prisma.customer.create({
          data: {
            workspaceId,
            externalId: `c${i}`,
            attributes: {
              plan,
              renewal: `2026-0${(i % 9) + 1}-01`,
              // A number for most, a string for one: both kinds, the most common first.
              age: i === 0 ? "unknown" : 30 + i,
              ...(i === 0 ? { bio: long, prefs: { news: true } } : {}),
            },
          },
        }),
      ),
    );
    const first = customers[0]!;
    let n = 0;
    const event = (name: string, properties: Record<string, unknown>) =>
      env.db.prisma.event.create({
        data: {
          workspaceId,
          customerId: first.id,
          name,
          properties: properties as never,
          timestamp: new Date("2026-03-01T10:00:00Z"),
          messageId: `m-${n++}`,
        },
      });
    for (let i = 0; i < 4; i++) await event("purchase", { total: 10 * (i + 1), vip: i === 0 });
    await event("page_view", {});
  });
  afterAll(async () => {
    await env?.close();
  });

  it("gives each attribute's kinds of value and its most common examples", async () => {
    const d = await catalogDetails(env.db.prisma, workspaceId);
    expect(d.attributeDetails?.plan).toEqual({
      types: ["string"],
      examples: ["pro", "free", "edu"],
    });
    expect(d.attributeDetails?.renewal?.types).toEqual(["date"]);
    expect(d.attributeDetails?.renewal?.examples).toHaveLength(MAX_EXAMPLES);
    expect(d.attributeDetails?.age?.types).toEqual(["number", "string"]);
    // Long values are cut; objects have a kind but no example.
    expect(d.attributeDetails?.bio?.examples).toEqual(["x".repeat(EXAMPLE_CHARS)]);
    expect(d.attributeDetails?.prefs).toEqual({ types: ["object"], examples: [] });
  });

  it("counts each event name in the sample and describes its properties; an event without any has none", async () => {
    const d = await catalogDetails(env.db.prisma, workspaceId);
    expect(d.eventSample).toBe(5);
    expect(d.eventDetails?.page_view).toEqual({ sampled: 1, properties: {} });
    expect(d.eventDetails?.purchase?.sampled).toBe(4);
    expect(d.eventDetails?.purchase?.properties.total).toEqual({
      types: ["number"],
      examples: ["10", "20", "30"],
    });
    expect(d.eventDetails?.purchase?.properties.vip).toEqual({
      types: ["boolean"],
      examples: ["false", "true"],
    });
  });

  it("a workspace that has observed nothing gets no details", async () => {
    const ws = await env.db.prisma.workspace.create({ data: { name: "empty", slug: "ws-empty" } });
    expect(await catalogDetails(env.db.prisma, ws.id)).toEqual({});
  });
});
