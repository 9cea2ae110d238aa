// issue 14: the case study through the real engine — a published journey makes the PURL on a
// purchase, the customer opens the page (pre-filled from the PURL params), submits the form, the
// run waiting for `form_submitted` (correlated by serial) issues the coupon, and the thank-you page
// shows that code.
import { draftFromSteps } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";

describe("issue 14: registration journey with a landing page and form", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("purchase → personal page → form → coupon on the thank-you page", async () => {
    const api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const page = await api.mutation("pages.create", {
      name: "Register",
      slug: "register-machine",
      draft: {
        root: { props: { title: "Register your {{ purl.model }}" } },
        content: [
          { type: "Heading", props: { id: "h", text: "Hello {{ customer.first_name }}" } },
          {
            type: "Form",
            props: {
              id: "f",
              formId: "registration",
              thankYouSlug: "registered",
              fields: [
                { name: "serial", label: "Serial", type: "text", prefill: "{{ purl.serial }}" },
                { name: "email", label: "Email", type: "email", required: true },
              ],
            },
          },
        ],
      },
    });
    expect((await api.mutation("pages.publish", { id: page.body.result.data.id })).status).toBe(
      200,
    );
    const thanks = await api.mutation("pages.create", {
      name: "Registered",
      slug: "registered",
      draft: {
        root: { props: {} },
        content: [
          {
            type: "CouponCard",
            props: { id: "c", title: "Your 30 % code", code: "{{ coupon.code }}" },
          },
        ],
      },
    });
    expect((await api.mutation("pages.publish", { id: thanks.body.result.data.id })).status).toBe(
      200,
    );

    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "purl" },
      {
        id: "purl",
        type: "action.purl",
        data: {
          page: "register-machine",
          params: { serial: "{{ event.serial }}", model: "{{ event.model }}" },
          qr: false,
        },
        next: "wait",
      },
      {
        id: "wait",
        type: "wait.event",
        data: {
          event: "form_submitted",
          timeout: { amount: 1, unit: "days" },
          correlate: { property: "serial", triggerProperty: "serial" },
        },
        next: { arrived: "coupon", timedOut: "x" },
      },
      {
        id: "coupon",
        type: "action.coupon",
        data: {
          source: { kind: "pattern", pattern: "REG-####" },
          value: { kind: "percent", amount: 30 },
        },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    const j = await api.mutation("journeys.create", { name: "Registration", draft });
    const published = await api.mutation("journeys.publish", { id: j.body.result.data.id });
    expect(published.status, JSON.stringify(published.body)).toBe(200);

    const auth = {
      authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
      "content-type": "application/json",
    };
    await fetch(`${h.baseUrl}/v1/identify`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ userId: "buyer", traits: { first_name: "Ada" } }),
    });
    await fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({
        userId: "buyer",
        event: "purchase",
        properties: { serial: "SN-777", model: "Barista Pro" },
      }),
    });
    const purl = await waitFor("the PURL", async () =>
      h.db.prisma.purl.findFirst({ where: { page: "register-machine" } }),
    );
    await waitFor("the run parked on the form", async () => {
      const run = await h.db.prisma.journeyRun.findUnique({ where: { id: purl.runId } });
      return run?.parkedEvent === "form_submitted" ? run : null;
    });

    const html = await (await fetch(`${h.baseUrl}/p/${purl.token}`)).text();
    expect(html).toContain("<title>Register your Barista Pro</title>");
    expect(html).toContain("Hello Ada");
    expect(html).toMatch(
      /id="registration-serial"[^>]*value="SN-777"|value="SN-777"[^>]*id="registration-serial"/,
    );
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, "&") ?? "";
    const res = await fetch(`${h.baseUrl}${action}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        _csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "",
        _key: /name="_key" value="([^"]+)"/.exec(html)?.[1] ?? "",
        _hp: "",
        serial: "SN-777",
        email: "ada@example.com",
      }).toString(),
    });
    expect(res.status).toBe(303);
    // The run took the submission and issued the coupon.
    const code = await waitFor("the coupon", async () => {
      const run = await h.db.prisma.journeyRun.findUnique({ where: { id: purl.runId } });
      const vars = (run?.state as { vars?: { coupon?: { code?: string } } } | null)?.vars;
      return vars?.coupon?.code ?? null;
    });
    expect(code).toMatch(/^REG-/);
    const thanksHtml = await (await fetch(`${h.baseUrl}${res.headers.get("location")}`)).text();
    expect(thanksHtml).toContain(code);

    // The page funnel (issue 14, item 6): the link knows the step that made it; the customer's
    // trace has the visit and the submission between the PURL and the coupon.
    expect(purl.stepId).toBe("purl");
    const trace = await h.db.prisma.runTrace.findMany({
      where: { runId: purl.runId },
      orderBy: { id: "asc" },
    });
    const lines = trace.map((t) => (t.detail as { text?: string }).text ?? t.kind);
    const visited = lines.indexOf("Opened personal page register-machine");
    const submitted = lines.indexOf("Submitted form registration");
    expect(visited, lines.join("\n")).toBeGreaterThan(-1);
    expect(submitted).toBeGreaterThan(visited);
    expect(trace[visited]?.stepId).toBe("purl");
  });
});
