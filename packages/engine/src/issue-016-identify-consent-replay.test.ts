// issue 16 (and "bad input loses nothing"): an identify call's consent traits are applied after its
// merge has committed, in statements of their own (identify-commit.ts). When one of them fails, the
// call is answered with the error and the sender retries it with the same messageId. That retry is
// a replay: it applies the consent traits again, to each channel that no one changed since the call
// was first received. Before, a replay skipped them, and an unsubscribe sent as a trait was lost.
// Real Postgres and Redis; the failure is a trigger of the test's own database refusing writes to
// "Subscription".
import { describe, expect, it } from "vitest";
import { consentOf } from "./consent.ts";
import { identify } from "./ingest.ts";
import type { EngineHarness } from "./testing/harness.ts";
import { harnessesClosedAfterEach } from "./testing/harness-hooks.ts";

const harness = harnessesClosedAfterEach({ workers: false });

/** Writes to "Subscription" fail until the returned function is called. */
async function refuseConsentWrites(h: EngineHarness): Promise<() => Promise<void>> {
  await h.db.exec(
    `CREATE FUNCTION refuse_subscription() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'test: Subscription refused'; END $$`,
  );
  await h.db.exec(
    `CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON "Subscription"
     FOR EACH ROW EXECUTE FUNCTION refuse_subscription()`,
  );
  return async () => {
    await h.db.exec(`DROP TRIGGER refuse ON "Subscription"`);
  };
}

async function emailConsent(h: EngineHarness, externalId: string) {
  const c = await h.db.prisma.customer.findFirstOrThrow({
    where: { workspaceId: h.workspaceId, externalId },
  });
  const consent = await consentOf(h.ctx, h.workspaceId, c.id);
  return {
    customerId: c.id,
    email: consent?.channels.find((x) => x.channel === "email"),
    history: consent?.history ?? [],
  };
}

describe("identify consent traits when their write fails", () => {
  it("the sender's retry of the call applies them, once", async () => {
    const h = await harness();
    const call = { userId: "ann", messageId: "m-ann-1", traits: { email_subscribed: false } };
    const allow = await refuseConsentWrites(h);
    await expect(identify(h.ctx, h.workspaceId, call)).rejects.toThrow(/Subscription refused/);
    // The merge committed: the customer is stored, the unsubscribe is not.
    const before = await emailConsent(h, "ann");
    expect(before.email?.status).toBe("never_asked");
    await allow();

    expect(await identify(h.ctx, h.workspaceId, call)).toEqual({
      customerId: before.customerId,
      duplicate: true,
    });
    const after = await emailConsent(h, "ann");
    expect(after.email).toMatchObject({ status: "unsubscribed", source: "identify" });
    expect(after.history).toHaveLength(1);

    // Replayed again: nothing changes and no history is added.
    await identify(h.ctx, h.workspaceId, call);
    expect((await emailConsent(h, "ann")).history).toHaveLength(1);
  });

  it("a choice made after the call was received stands against its retry", async () => {
    const h = await harness();
    const first = { userId: "bob", messageId: "m-bob-1", traits: { email_subscribed: false } };
    const allow = await refuseConsentWrites(h);
    await expect(identify(h.ctx, h.workspaceId, first)).rejects.toThrow(/Subscription refused/);
    await allow();
    // A later call subscribes the customer; then the sender retries the first one.
    await identify(h.ctx, h.workspaceId, {
      userId: "bob",
      messageId: "m-bob-2",
      traits: { email_subscribed: true },
    });
    expect(await identify(h.ctx, h.workspaceId, first)).toMatchObject({ duplicate: true });
    const after = await emailConsent(h, "bob");
    expect(after.email).toMatchObject({ status: "subscribed", source: "identify" });
    expect(after.history.map((x) => x.status)).toEqual(["subscribed"]);
  });
});
