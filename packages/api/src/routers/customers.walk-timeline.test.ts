// Walk finding (customer profile): the timeline said Postpath's own message events raw
// ("email_sent", "message_id m6955…", "step_id email") and the trace wrote wait times in UTC
// while the rest of the app shows local time. On real Postgres: a message event reads as words
// with the journey and step names as drawn, a customer-sent event keeps its name and properties,
// and a trace line's wait end comes as an ISO time (`until`), not as a clock time in the text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, type ApiTestEnv } from "../testing.ts";

const CAST = [["a", "ws-a", "MARKETER"]] as const;

describe("customer timeline and trace in words (walk)", () => {
  let env: ApiTestEnv<"a">;
  let ws: string;
  beforeAll(async () => {
    env = await openApiTestEnv(CAST, { prefix: "custwalk" });
    ws = env.users.a.workspaceId;
  });
  afterAll(async () => {
    await env?.close();
  });

  it("says message events in words with the journey and step, and leaves customer events as sent", async () => {
    const prisma = env.db.prisma;
    const c = await prisma.customer.create({
      data: { workspaceId: ws, externalId: "ada", email: "ada@example.com" },
    });
    const journey = await prisma.journey.create({
      data: { workspaceId: ws, name: "Welcome series", draft: {}, status: "LIVE" },
    });
    const version = await prisma.journeyVersion.create({
      data: {
        journeyId: journey.id,
        workspaceId: ws,
        version: 1,
        schemaVersion: 1,
        triggerType: "trigger.event",
        triggerEvent: "signup",
        plan: {
          schemaVersion: 1,
          triggerStepId: "t",
          settings: {},
          steps: {
            t: { id: "t", type: "trigger.event", config: { event: "signup" }, next: { out: "w" } },
            w: { id: "w", type: "flow.wait", config: {}, next: { out: "email" } },
            email: {
              id: "email",
              type: "action.email",
              config: { label: "Thank-you email" },
              next: { out: null },
            },
          },
        },
      },
    });
    const run = await prisma.journeyRun.create({
      data: {
        workspaceId: ws,
        journeyId: journey.id,
        versionId: version.id,
        customerId: c.id,
        entryNumber: 1,
        status: "COMPLETED",
        startedAt: new Date(Date.UTC(2026, 11, 5, 0, 50)),
      },
    });
    const message = await prisma.message.create({
      data: {
        workspaceId: ws,
        runId: run.id,
        stepId: "email",
        runSeq: 2,
        channel: "email",
        idempotencyKey: `${run.id}:email`,
        status: "SENT",
        customerId: c.id,
        recipient: "ada@example.com",
      },
    });
    // issue 15: its idempotency key, as the engine stores it with every message.
    await prisma.messageKey.create({
      data: {
        idempotencyKey: message.idempotencyKey,
        messageId: message.id,
        createdAt: message.createdAt,
      },
    });
    const until = "2026-12-05T00:53:00.000Z";
    await prisma.runTrace.createMany({
      data: [
        {
          runId: run.id,
          stepId: "w",
          kind: "wait.scheduled",
          detail: { duration: "30 seconds", until },
        },
      ],
    });
    const event = (name: string, properties: object, minute: number) =>
      prisma.event.create({
        data: {
          workspaceId: ws,
          customerId: c.id,
          name,
          properties,
          timestamp: new Date(Date.UTC(2026, 11, 5, 1, minute)),
          messageId: `${name}-${minute}`,
        },
      });
    await event("email_sent", { message_id: message.id, step_id: "email" }, 1);
    await event(
      "email_clicked",
      {
        message_id: message.id,
        journey_id: journey.id,
        step_id: "email",
        url: "https://x.example/a",
      },
      2,
    );
    await event("purchase", { amount: 30, step_id: "mine" }, 3);
    // A message id of nothing we know (or of another workspace): words without names.
    await event("sms_delivered", { message_id: "m-unknown" }, 4);

    const a = createCaller(env.ctxFor(env.users.a));
    const timeline = await a.customers.timeline({ id: c.id });
    expect(timeline.items.map((e) => [e.name, e.properties])).toEqual([
      ["SMS delivered", []],
      [
        "purchase",
        [
          { key: "amount", value: "30" },
          { key: "step_id", value: "mine" },
        ],
      ],
      [
        "Email link clicked (from Welcome series · Thank-you email)",
        [{ key: "url", value: "https://x.example/a" }],
      ],
      ["Email sent by Welcome series · Thank-you email", []],
    ]);

    const runs = await a.customers.runs({ id: c.id });
    const wait = runs.items[0]!.trace[0]!;
    expect(wait.text).toBe("Waiting 30 seconds");
    expect(wait.text).not.toContain("UTC");
    expect(wait.until).toBe(until);
  });
});
