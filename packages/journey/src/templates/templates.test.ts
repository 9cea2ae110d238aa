import { describe, expect, it } from "vitest";
import {
  compile,
  simulate,
  templates,
  validate,
  type CustomerSnapshot,
  type Plan,
  type SimulationEvent,
  PageSlug,
  formsOf,
  validatePageDocument,
} from "../index.ts";

const DAY = 86_400_000;

function plan(id: string): Plan {
  const t = templates.find((x) => x.id === id);
  if (!t) throw new Error(`no template ${id}`);
  // Stored as JSON, read back: the gallery content must survive that.
  const r = compile(JSON.parse(JSON.stringify(t.draft)));
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2));
  return r.plan;
}

const anna: CustomerSnapshot = {
  id: "c-anna",
  externalId: "anna-1",
  email: "anna@example.com",
  phone: "+41790000000",
  timezone: "Europe/Zurich",
  attributes: { first_name: "Anna" },
  tags: [],
};

const sentSteps = (r: ReturnType<typeof simulate>) => r.messages.map((m) => m.stepId);

describe("template gallery", () => {
  it("has the five campaigns, each valid, with unique ids", () => {
    expect(templates.map((t) => t.id)).toEqual([
      "machine-registration",
      "post-purchase-series",
      "store-visit",
      "anniversary",
      "ab-test",
    ]);
    for (const t of templates) {
      expect(validate(t.draft), t.id).toEqual([]);
      expect(
        t.draft.nodes.every((n) => Number.isFinite(n.position.x) && Number.isFinite(n.position.y)),
      ).toBe(true);
    }
  });

  describe("1. machine registration", () => {
    const start = Date.UTC(2025, 4, 5, 8, 0); // Monday 10:00 in Zurich
    const purchase = (tier: string, serial = "SN-100"): SimulationEvent => ({
      at: start,
      name: "purchase",
      properties: { serial, product: { category: "coffee-machine", model: "Barista Pro", tier } },
    });
    /** What the landing page's form sends (apps/server/src/purl.ts): fields + form id. */
    const registration = (at: number, serial: string, form = "registration"): SimulationEvent => ({
      at,
      name: "form_submitted",
      properties: { form, formId: form, first_name: "Anna", email: "anna@example.com", serial },
    });

    it("registered on the page within 7 days (same serial): personal link + QR, then the 30% code for premium by email", () => {
      const r = simulate(
        plan("machine-registration"),
        anna,
        [
          purchase("premium"),
          // Another machine's registration, and another form with this serial: not this run's.
          registration(start + 2 * DAY, "SN-999"),
          registration(start + 2 * DAY + 1, "SN-100", "newsletter"),
          registration(start + 3 * DAY, "SN-100"),
        ],
        { start, until: start + 30 * DAY },
      );
      expect(r.path).toEqual([
        "purchase",
        "purl",
        "invite",
        "registered",
        "discount",
        "thanks",
        "done",
      ]);
      expect(r.status).toBe("completed");
      const [invite, thanks] = r.messages;
      expect(invite?.rendered["subject"]).toBe("Anna, register your Barista Pro and save 30%");
      expect(invite?.rendered["body"]).toMatch(
        /https:\/\/go\.postpath\.example\/register-machine\/[a-z0-9]{10}/,
      );
      expect(invite?.rendered["body"]).toContain("get 30% off your next order");
      expect(invite?.rendered["body"]).toContain("/qr.png");
      expect(thanks).toMatchObject({ stepId: "thanks", at: start + 3 * DAY });
      expect(thanks?.rendered["body"]).toContain(
        "Your Barista Pro is registered. Enjoy your coffee, Anna.",
      );
      expect(thanks?.rendered["body"]).toMatch(
        /30% off your next order: <strong>REG-[A-Z2-9]{8}<\/strong>/,
      );
    });

    it("not registered: a reminder SMS after 7 days (25% for other tiers); registering after it still earns the code", () => {
      const r = simulate(plan("machine-registration"), anna, [purchase("basic")], {
        start,
        until: start + 30 * DAY,
      });
      expect(sentSteps(r)).toEqual(["invite", "reminder"]);
      expect(r.messages[1]).toMatchObject({ channel: "sms", at: start + 7 * DAY });
      expect(r.messages[1]?.rendered["body"]).toMatch(
        /^Anna, register your Barista Pro for 25% off: https:\/\//,
      );
      expect(r.timeline.map((t) => t.decision)).toContain("event.timedOut");
      expect(r.finalState?.endedAt).toBe(start + 21 * DAY);

      const late = simulate(
        plan("machine-registration"),
        anna,
        [purchase("basic"), registration(start + 10 * DAY, "SN-100")],
        { start, until: start + 30 * DAY },
      );
      expect(sentSteps(late)).toEqual(["invite", "reminder", "thanks"]);
      expect(late.messages[2]?.rendered["body"]).toMatch(/25% off your next order: <strong>REG-/);
    });

    it("the SMS reminder waits for the end of quiet hours", () => {
      const late = Date.UTC(2025, 4, 5, 20, 30); // 22:30 in Zurich
      const r = simulate(plan("machine-registration"), anna, [{ ...purchase("basic"), at: late }], {
        start: late,
        until: late + 30 * DAY,
      });
      expect(r.messages[1]).toMatchObject({ stepId: "reminder", at: Date.UTC(2025, 4, 13, 6, 0) }); // 08:00 Zurich
    });

    it("other purchases don't enter", () => {
      const r = simulate(
        plan("machine-registration"),
        anna,
        [{ at: start, name: "purchase", properties: { product: { category: "beans" } } }],
        { start, until: start + DAY },
      );
      expect(r).toMatchObject({ entered: false, status: "notEntered" });
    });

    it("counts entries per serial, and ships its two pages, ready to publish", () => {
      const t = templates.find((x) => x.id === "machine-registration");
      expect(plan("machine-registration").settings.entry).toMatchObject({
        mode: "once",
        perValueOf: "serial",
      });
      expect(t?.pages?.map((p) => p.slug)).toEqual(["register-machine", "machine-registered"]);
      for (const p of t?.pages ?? []) {
        expect(PageSlug.parse(p.slug)).toBe(p.slug);
        expect(validatePageDocument(JSON.parse(JSON.stringify(p.document))), p.slug).toEqual([]);
      }
      const [form] = formsOf(t!.pages![0]!.document);
      // The form sends what the journey waits for: its id, and the serial the run is matched by.
      expect(form?.formId).toBe("registration");
      expect(form?.thankYouSlug).toBe("machine-registered");
      expect(form?.fields.map((f) => [f.name, f.type, f.prefill])).toEqual([
        ["first_name", "text", "{{ customer.first_name }}"],
        ["email", "email", "{{ customer.email }}"],
        ["phone", "phone", "{{ customer.phone }}"],
        ["serial", "hidden", "{{ purl.serial }}"],
      ]);
      expect(form?.consent).toMatchObject({ enabled: true, required: false });
      // The PURL step names the page and passes what its blocks read.
      const purl = t!.draft.nodes.find((n) => n.id === "purl");
      expect(purl?.data).toMatchObject({
        page: "register-machine",
        params: { serial: expect.any(String), model: expect.any(String), tier: expect.any(String) },
      });
    });
  });

  describe("2. three-part post-purchase series", () => {
    const start = Date.UTC(2025, 5, 2, 9, 0);
    const order = (properties: Record<string, unknown>): SimulationEvent => ({
      at: start,
      name: "purchase",
      properties: { order_id: "o-1", product: { name: "Grinder" }, ...properties },
    });

    it("big spender: thank-you now, tips on day 3, VIP offer on day 7", () => {
      const r = simulate(plan("post-purchase-series"), anna, [order({ total: 900 })], {
        start,
        until: start + 30 * DAY,
      });
      expect(r.messages.map((m) => [m.stepId, (m.at - start) / DAY])).toEqual([
        ["thanks", 0],
        ["tips", 3],
        ["vip-email", 7],
      ]);
      expect(r.messages[2]?.rendered["subject"]).toBe("Anna, a VIP thank-you: 20% off");
      expect(r.status).toBe("completed");
      expect(r.finalState?.converted).toBe(false);
    });

    it("clearance buyer gets free shipping; everyone else the standard offer", () => {
      const clearance = simulate(
        plan("post-purchase-series"),
        anna,
        [order({ total: 40, clearance: true })],
        { start, until: start + 30 * DAY },
      );
      expect(sentSteps(clearance)).toEqual(["thanks", "tips", "clearance-email"]);
      expect(clearance.messages[2]?.rendered["body"]).toMatch(
        /Use SHIP-[A-Z2-9]{6} for free shipping/,
      );
      const standard = simulate(plan("post-purchase-series"), anna, [order({ total: 40 })], {
        start,
        until: start + 30 * DAY,
      });
      expect(sentSteps(standard)).toEqual(["thanks", "tips", "standard-email"]);
    });

    it("a second purchase is the goal: it converts and ends the series", () => {
      const r = simulate(
        plan("post-purchase-series"),
        anna,
        [
          order({ total: 900 }),
          { at: start + 4 * DAY, name: "purchase", properties: { order_id: "o-2" } },
        ],
        {
          start,
          until: start + 30 * DAY,
        },
      );
      expect(sentSteps(r)).toEqual(["thanks", "tips"]);
      expect(r.finalState).toMatchObject({
        status: "completed",
        converted: true,
        conversion: { goal: "second purchase", at: start + 4 * DAY },
      });
      expect(r.effects.map((e) => e.effect.kind)).toContain("convert");
    });
  });

  describe("3. omnichannel store visit", () => {
    const paris: CustomerSnapshot = {
      ...anna,
      timezone: "Europe/Paris",
      attributes: { first_name: "Anna", push_token: "tok" },
    };
    const visitAt = Date.UTC(2025, 2, 10, 10, 0); // 11:00 in Paris
    const visit: SimulationEvent = {
      at: visitAt,
      name: "store_visit",
      properties: {
        store_id: "paris-1",
        clerk_email: "clerk@store.example",
        viewed_product: { sku: "BP-1", name: "Barista Pro" },
      },
    };

    it("visit → coupon push + clerk; purchase → thank-you with accessory coupon; 3 days → SMS (held at night); 14 days → survey", () => {
      const purchaseAt = Date.UTC(2025, 2, 10, 20, 30); // 21:30 in Paris
      const r = simulate(
        plan("store-visit"),
        paris,
        [
          visit,
          {
            at: purchaseAt,
            name: "purchase",
            properties: { product: { name: "Barista Pro", sku: "BP-1" } },
          },
        ],
        {
          start: visitAt,
          until: visitAt + 60 * DAY,
        },
      );
      expect(r.messages.map((m) => [m.stepId, m.channel, new Date(m.at).toISOString()])).toEqual([
        ["push", "push", "2025-03-10T10:00:00.000Z"],
        ["clerk", "notify", "2025-03-10T10:00:00.000Z"],
        ["thanks", "email", "2025-03-10T20:30:00.000Z"],
        // 3 days later is 21:30 Paris time: quiet hours hold the SMS until 08:00.
        ["sale-sms", "sms", "2025-03-14T07:00:00.000Z"],
        ["survey", "email", "2025-03-28T07:00:00.000Z"],
      ]);
      expect(r.messages[0]?.rendered["body"]).toMatch(
        /^10% off the Barista Pro today with STORE-[A-Z2-9]{6}\.$/,
      );
      expect(r.messages[1]?.rendered).toMatchObject({
        to: "clerk@store.example",
        subject: "Anna is in the store",
      });
      expect(r.messages[2]?.rendered["body"]).toMatch(
        /Take 15% off accessories with ACCESSORIES-15-[A-Z2-9]{6}/,
      );
      expect(r.messages[2]?.rendered["body"]).toContain("https://support.example/BP-1");
      expect(r.timeline.map((t) => t.decision)).toContain("quietHours.held");
      expect(r.status).toBe("completed");
    });

    it("no purchase within 7 days: the run ends after the visit messages", () => {
      const r = simulate(plan("store-visit"), paris, [visit], {
        start: visitAt,
        until: visitAt + 60 * DAY,
      });
      expect(sentSteps(r)).toEqual(["push", "clerk"]);
      expect(r.finalState?.endedAt).toBe(visitAt + 7 * DAY);
    });

    it("a failed push doesn't stop the clerk notification", () => {
      const r = simulate(plan("store-visit"), paris, [visit], {
        start: visitAt,
        until: visitAt + DAY,
        failSteps: ["push"],
      });
      expect(r.timeline.map((t) => [t.stepId, t.decision])).toContainEqual(["push", "send.failed"]);
      expect(sentSteps(r)).toEqual(["push", "clerk"]);
    });
  });

  describe("4. anniversary", () => {
    it("one year after registration at 10:00 local time, a loyalty reward", () => {
      const bob: CustomerSnapshot = {
        ...anna,
        timezone: "America/New_York",
        attributes: { first_name: "Bob", registered_at: "2024-03-15T16:20:00Z" },
      };
      const start = Date.UTC(2025, 0, 1);
      const r = simulate(plan("anniversary"), bob, [], { start, until: Date.UTC(2025, 11, 31) });
      expect(r.enteredAt).toBe(Date.UTC(2025, 2, 15, 14, 0)); // 10:00 EDT
      expect(r.messages).toHaveLength(1);
      expect(r.messages[0]?.rendered).toMatchObject({ subject: "Happy anniversary, Bob!" });
      expect(r.messages[0]?.rendered["body"]).toMatch(
        /Here is 10 EUR to celebrate: LOYALTY-10-[A-Z2-9]{6}\./,
      );
    });

    it("customers without a registration date never enter", () => {
      const r = simulate(plan("anniversary"), anna, [], { start: 0, until: Date.UTC(2030, 0, 1) });
      expect(r.entered).toBe(false);
    });
  });

  describe("5. A/B test", () => {
    const start = Date.UTC(2025, 6, 1, 12, 0);
    const purchase: SimulationEvent = {
      at: start,
      name: "purchase",
      properties: { product: { name: "Milk frother" } },
    };

    it("splits 45/45/10 deterministically, and the holdout gets no email", () => {
      const counts: Record<string, number> = { "email-a": 0, "email-b": 0, holdout: 0 };
      const abTest = plan("ab-test");
      for (let i = 0; i < 1000; i++) {
        const r = simulate(abTest, { ...anna, id: `c-${i}` }, [purchase], {
          start,
          until: start + 30 * DAY,
          runId: `run-${i}`,
        });
        const sent = r.messages[0]?.stepId ?? "holdout";
        counts[sent] = (counts[sent] ?? 0) + 1;
        expect(r.status).toBe("completed");
      }
      expect(counts["email-a"]).toBeGreaterThan(400);
      expect(counts["email-a"]).toBeLessThan(500);
      expect(counts["email-b"]).toBeGreaterThan(400);
      expect(counts["email-b"]).toBeLessThan(500);
      expect(counts["holdout"]).toBeGreaterThan(70);
      expect(counts["holdout"]).toBeLessThan(130);
    });

    it("a second purchase converts, whichever branch the customer is on", () => {
      const r = simulate(
        plan("ab-test"),
        anna,
        [purchase, { at: start + 5 * DAY, name: "purchase", properties: {} }],
        { start, until: start + 30 * DAY, runId: "run-7" },
      );
      expect(r.finalState).toMatchObject({
        converted: true,
        status: "completed",
        endedAt: start + 5 * DAY,
      });
      const again = simulate(plan("ab-test"), anna, [purchase], {
        start,
        until: start + 30 * DAY,
        runId: "run-7",
      });
      expect(again.path.slice(0, 4)).toEqual(r.path.slice(0, 4));
      expect(again.finalState?.endedAt).toBe(start + 16 * DAY);
    });
  });
});
