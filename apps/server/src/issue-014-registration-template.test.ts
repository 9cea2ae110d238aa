// issue 14, item 7: the case study as the gallery template, through the real server, worker,
// Postgres, Redis and an SMTP sink. "Use template" makes the journey and its two pages; a customer
// buys two machines → two invitations, two personal pages that know each machine, two
// registrations through the page's form that never cross (entries per serial), each thank-you
// page showing that machine's coupon (30% premium, 25% basic); the same serial again is refused.
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";

/** The value of the input named `name` ("" when it has none), HTML entities as sent. */
function inputValue(html: string, name: string): string | null {
  const tag = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0];
  if (!tag) return null;
  return /value="([^"]*)"/.exec(tag)?.[1] ?? "";
}

describe("issue 14: the machine-registration template with its page, form and thank-you page", () => {
  let h: Harness;
  let smtp: SmtpSink;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    h = await startHarness({ smtpUrl: smtp.url });
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  it("two machines → two pages and two registrations that never cross; the coupon on each thank-you page", async () => {
    const api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const made = await api.mutation("journeys.createFromTemplate", {
      templateId: "machine-registration",
    });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const { id: journeyId, pages } = made.body.result.data as {
      id: string;
      pages: { id: string; slug: string; created: boolean }[];
    };
    expect(pages.map((p) => [p.slug, p.created])).toEqual([
      ["register-machine", true],
      ["machine-registered", true],
    ]);
    // The starter pages publish as they come; so does the journey.
    for (const p of pages) {
      const published = await api.mutation("pages.publish", { id: p.id });
      expect(published.status, JSON.stringify(published.body)).toBe(200);
    }
    const published = await api.mutation("journeys.publish", { id: journeyId });
    expect(published.status, JSON.stringify(published.body)).toBe(200);

    const auth = {
      authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
      "content-type": "application/json",
    };
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${h.baseUrl}${path}`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
    };
    await post("/v1/identify", {
      userId: "ada",
      traits: { first_name: "Ada", email: "ada@example.com" },
    });
    const buy = (serial: string, model: string, tier: string) =>
      post("/v1/track", {
        userId: "ada",
        event: "purchase",
        properties: { serial, product: { category: "coffee-machine", model, tier } },
      });
    await buy("SN-PRO-1", "Barista Pro", "premium");
    await buy("SN-ONE-2", "Barista One", "basic");

    const links = await waitFor("two personal links", async () => {
      const rows = await h.db.prisma.purl.findMany({ where: { page: "register-machine" } });
      return rows.length === 2 ? rows : null;
    });
    const bySerial = new Map(
      links.map((l) => [(l.params as { serial: string }).serial, l] as const),
    );
    const pro = bySerial.get("SN-PRO-1")!;
    const one = bySerial.get("SN-ONE-2")!;
    expect(pro.runId).not.toBe(one.runId);
    await waitFor("both runs parked on the registration", async () => {
      const runs = await h.db.prisma.journeyRun.findMany({ where: { journeyId } });
      return runs.length === 2 && runs.every((r) => r.parkedEvent === "form_submitted")
        ? runs
        : null;
    });
    const invites = await smtp.waitFor(2, { match: (m) => /^Ada, register your/.test(m.subject) });
    expect(invites.map((m) => m.subject).sort()).toEqual([
      "Ada, register your Barista One and save 25%",
      "Ada, register your Barista Pro and save 30%",
    ]);

    // The same machine again: refused and recorded, per serial.
    await buy("SN-PRO-1", "Barista Pro", "premium");
    const skip = await waitFor("the repeat refused", async () =>
      h.db.prisma.entrySkip.findFirst({ where: { journeyId } }),
    );
    expect(skip).toMatchObject({
      reason: "activeRun",
      detail: "entry rule: already in this journey for serial SN-PRO-1",
    });

    // The premium machine's page: greeting, the machine, the form pre-filled, the serial hidden.
    const html = await (await fetch(`${h.baseUrl}/p/${pro.token}`)).text();
    expect(html).toContain("<title>Register your Barista Pro</title>");
    expect(html).toContain("Hello Ada, welcome to your new machine");
    expect(html).toContain("30% off your next order");
    expect(html).toContain("Serial SN-PRO-1");
    expect(inputValue(html, "first_name")).toBe("Ada");
    expect(inputValue(html, "email")).toBe("ada@example.com");
    expect(inputValue(html, "phone")).toBe("");
    expect(html).toMatch(
      /<input[^>]*type="hidden"[^>]*name="serial"|name="serial"[^>]*type="hidden"/,
    );
    expect(inputValue(html, "serial")).toBe("SN-PRO-1");
    expect(html).toMatch(
      /<input[^>]*type="checkbox"[^>]*name="consent"|name="consent"[^>]*type="checkbox"/,
    );

    const register = async (page: string, token: string) => {
      const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1]?.replace(/&amp;/g, "&") ?? "";
      const res = await fetch(`${h.baseUrl}${action}`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          _csrf: inputValue(page, "_csrf") ?? "",
          _key: inputValue(page, "_key") ?? "",
          _hp: "",
          first_name: "Ada",
          email: "ada@example.com",
          phone: "+41 79 000 00 00",
          serial: inputValue(page, "serial") ?? "",
          consent: "on",
        }).toString(),
      });
      expect(res.status, token).toBe(303);
      return (await fetch(`${h.baseUrl}${res.headers.get("location")}`)).text();
    };
    const codeOf = async (runId: string) =>
      waitFor(`the coupon of ${runId}`, async () => {
        const run = await h.db.prisma.journeyRun.findUnique({ where: { id: runId } });
        const vars = (run?.state as { vars?: { coupon?: { code?: string; value?: number } } })
          ?.vars;
        return vars?.coupon?.code ? vars.coupon : null;
      });

    const thanksPro = await register(html, pro.token);
    const proCoupon = await codeOf(pro.runId);
    expect(proCoupon.value).toBe(30);
    expect(thanksPro).toContain("Thank you, Ada!");
    expect(thanksPro).toContain("Your Barista Pro (serial SN-PRO-1) is registered.");
    expect(thanksPro).toContain("Your 30% registration discount");
    expect(thanksPro).toContain(proCoupon.code);
    // The other machine's run did not move.
    const other = await h.db.prisma.journeyRun.findUniqueOrThrow({ where: { id: one.runId } });
    expect(other).toMatchObject({ status: "WAITING", parkedEvent: "form_submitted" });
    expect(JSON.stringify(other.state)).not.toContain(proCoupon.code);
    const thanksMail = await smtp.waitFor(1, { match: (m) => m.subject === "Thank you, Ada!" });
    expect(thanksMail[0]?.html).toContain(proCoupon.code);
    expect(thanksMail[0]?.html).toContain("Your Barista Pro is registered.");

    // The basic machine: its own page, its own registration, 25%.
    const html2 = await (await fetch(`${h.baseUrl}/p/${one.token}`)).text();
    expect(html2).toContain("<title>Register your Barista One</title>");
    expect(inputValue(html2, "serial")).toBe("SN-ONE-2");
    const thanksOne = await register(html2, one.token);
    const oneCoupon = await codeOf(one.runId);
    expect(oneCoupon.value).toBe(25);
    expect(oneCoupon.code).not.toBe(proCoupon.code);
    expect(thanksOne).toContain("Your 25% registration discount");
    expect(thanksOne).toContain(oneCoupon.code);
    expect(thanksOne).not.toContain(proCoupon.code);
    // Both runs end; the submissions are stored with consent; no third run.
    await waitFor("both runs completed", async () => {
      const runs = await h.db.prisma.journeyRun.findMany({ where: { journeyId } });
      return runs.length === 2 && runs.every((r) => r.status === "COMPLETED") ? runs : null;
    });
    const subs = await h.db.prisma.formSubmission.findMany({ where: { formId: "registration" } });
    expect(subs.map((s) => (s.fields as { serial: string }).serial).sort()).toEqual([
      "SN-ONE-2",
      "SN-PRO-1",
    ]);
    expect(subs.every((s) => (s.consent as { given: boolean } | null)?.given === true)).toBe(true);
  });
});
