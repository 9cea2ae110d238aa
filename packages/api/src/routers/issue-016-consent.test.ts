// Issue 16, item 4: consent through the API (createCaller, real Postgres): roles, workspace
// scoping, history with who did it, the suppression list, and 4xx naming the field for bad input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";

describe("consent router", () => {
  let env: ApiTestEnv<"admin" | "marketer" | "viewer" | "other">;
  let ann: string;

  beforeAll(async () => {
    env = await openApiTestEnv(
      [
        ["admin", "c-a", "ADMIN"],
        ["marketer", "c-a", "MARKETER"],
        ["viewer", "c-a", "VIEWER"],
        ["other", "c-b", "ADMIN"],
      ] as const,
      { prefix: "consent" },
    );
    ann = (
      await env.db.prisma.customer.create({
        data: {
          workspaceId: env.users.admin.workspaceId,
          externalId: "ann",
          email: "Ann@Example.com",
        },
      })
    ).id;
  });
  afterAll(async () => {
    await env?.close();
  });

  it("a marketer sets a channel; a viewer reads the state and the history with who did it", async () => {
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const viewer = createCaller(env.ctxFor(env.users.viewer));
    expect((await viewer.consent.get({ externalId: "ann" })).channels.map((c) => c.status)).toEqual(
      ["never_asked", "never_asked", "never_asked"],
    );
    expect(
      await marketer.consent.set({
        externalId: "ann",
        channel: "email",
        status: "unsubscribed",
        note: "asked by phone",
      }),
    ).toMatchObject({ customerId: ann, changed: true, previous: null });
    expect(
      await marketer.consent.set({ customerId: ann, channel: "email", status: "unsubscribed" }),
    ).toMatchObject({ changed: false, previous: "unsubscribed" });
    const got = await viewer.consent.get({ customerId: ann });
    expect(got.channels[0]).toMatchObject({
      channel: "email",
      status: "unsubscribed",
      source: "admin",
    });
    expect(got.history).toHaveLength(1);
    expect(got.history[0]).toMatchObject({
      actor: env.users.marketer.id,
      sourceLabel: "changed by a team member",
      detail: { by: env.users.marketer.email, note: "asked by phone" },
    });
    const audit = await env.db.prisma.auditLog.findMany({ where: { action: "consent.set" } });
    expect(audit).toHaveLength(1);

    // A viewer may not change it; another workspace cannot see or change this customer.
    expect(
      (await rejects(viewer.consent.set({ customerId: ann, channel: "sms", status: "subscribed" })))
        .code,
    ).toBe("FORBIDDEN");
    const other = createCaller(env.ctxFor(env.users.other));
    expect((await rejects(other.consent.get({ customerId: ann }))).code).toBe("NOT_FOUND");
    expect(
      (
        await rejects(
          other.consent.set({ customerId: ann, channel: "email", status: "subscribed" }),
        )
      ).code,
    ).toBe("NOT_FOUND");
    expect(
      (await rejects(createCaller(env.ctxFor(null)).consent.get({ customerId: ann }))).code,
    ).toBe("UNAUTHORIZED");
  });

  it("bad input is a 400 naming the field", async () => {
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    const e1 = await rejects(
      marketer.consent.set({ customerId: ann, channel: "fax" as never, status: "subscribed" }),
    );
    expect(e1.code).toBe("BAD_REQUEST");
    expect(e1.message).toContain("channel");
    const e2 = await rejects(marketer.consent.get({}));
    expect(e2.code).toBe("BAD_REQUEST");
    expect(e2.message).toContain("customerId");
    const admin = createCaller(env.ctxFor(env.users.admin));
    const e3 = await rejects(
      admin.consent.suppress({ channel: "email", address: "not an address" }),
    );
    expect(e3.code).toBe("BAD_REQUEST");
    expect(e3.message).toContain("address");
  });

  it("admins keep the suppression list; marketers may read it but not change it", async () => {
    const admin = createCaller(env.ctxFor(env.users.admin));
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    expect(
      await admin.consent.suppress({
        channel: "email",
        address: " ANN@example.com ",
        reason: "complaint",
      }),
    ).toMatchObject({
      created: true,
      address: "ann@example.com",
    });
    expect(
      (await admin.consent.suppress({ channel: "email", address: "ann@example.com" })).created,
    ).toBe(false);
    expect(
      (await rejects(marketer.consent.suppress({ channel: "email", address: "x@example.com" })))
        .code,
    ).toBe("FORBIDDEN");
    expect(await marketer.consent.suppressions()).toMatchObject([
      { channel: "email", address: "ann@example.com", reason: "complaint" },
    ]);
    // The profile shows it beside the subscription.
    expect((await marketer.consent.get({ customerId: ann })).channels[0]?.suppressed).toMatchObject(
      {
        reason: "complaint",
      },
    );
    expect(await createCaller(env.ctxFor(env.users.other)).consent.suppressions()).toEqual([]);
    expect(
      await admin.consent.unsuppress({ channel: "email", address: "Ann@Example.com" }),
    ).toEqual({ removed: true });
    expect(
      (await rejects(admin.consent.unsuppress({ channel: "email", address: "ann@example.com" })))
        .code,
    ).toBe("NOT_FOUND");
  });

  it("admins read the inbound SMS address: keyed without an SMS credential", async () => {
    const admin = createCaller(env.ctxFor(env.users.admin));
    const r = await admin.consent.smsInbound();
    expect(r.verifiedBy).toBe("key");
    expect(r.url).toMatch(
      new RegExp(`/sms/inbound/${env.users.admin.workspaceId}/[A-Za-z0-9_-]{32}$`),
    );
    const marketer = createCaller(env.ctxFor(env.users.marketer));
    expect((await rejects(marketer.consent.smsInbound())).code).toBe("FORBIDDEN");
  });
});
