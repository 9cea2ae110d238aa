// issue 14: landing pages and forms on the real app (Postgres, Redis, workers): a published page
// renders personalised and escaped at /p/:token; forms validate per field, store once per
// idempotency key (also under a concurrent double POST), record one `form_submitted` event, save
// mapped attributes and redirect to a thank-you page that waits (bounded) for the run's coupon.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";

const XSS = "<img src=x onerror=alert(1)>";

type Api = ReturnType<typeof trpcHttp>;

type Json = Record<string, string | Record<string, string>>;

function runState(runId: string, customerId: string, vars: Json): Json {
  return JSON.parse(
    JSON.stringify({
      runId,
      status: "parked",
      stepId: "wait",
      entered: true,
      enteredAt: 0,
      waitUntil: null,
      parkedFor: null,
      held: false,
      trigger: null,
      customer: { id: customerId, externalId: "x", attributes: {}, tags: [] },
      outputs: {},
      vars,
      converted: false,
      conversion: null,
      endedAt: null,
      exitReason: null,
      stepsRun: 1,
    }),
  ) as Json;
}

const registration = {
  root: { props: { title: "Register, {{ customer.first_name }}", accent: "#1f5f8b" } },
  content: [
    {
      type: "Heading",
      props: { id: "h1", text: "Welcome, {{ customer.first_name }}!", level: "h1" },
    },
    {
      type: "ProductCard",
      props: { id: "p1", title: "{{ purl.model }}", subtitle: "Serial {{ purl.serial }}" },
    },
    {
      type: "Text",
      props: { id: "t1", text: "Broken {% for i in (1..1000000000) %}{{ i }}{% endfor %} end." },
    },
    {
      type: "Form",
      props: {
        id: "f1",
        formId: "registration",
        title: "Register your machine",
        submitLabel: "Register",
        thankYouSlug: "thanks",
        fields: [
          { name: "serial", label: "Serial number", type: "hidden", prefill: "{{ purl.serial }}" },
          {
            name: "email",
            label: "Email",
            type: "email",
            required: true,
            prefill: "{{ customer.email }}",
          },
          { name: "city", label: "City", type: "text", required: true, saveTo: "city" },
        ],
        consent: {
          enabled: true,
          text: "I agree to receive offers.",
          version: "2",
          required: false,
        },
      },
    },
  ],
};

const thanks = {
  root: { props: { title: "Thank you" } },
  content: [
    { type: "Heading", props: { id: "h", text: "Thank you, {{ customer.first_name }}" } },
    {
      type: "CouponCard",
      props: {
        id: "c",
        title: "Your discount",
        code: "{{ coupon.code }}",
        pendingText: "Your code is on its way by email.",
      },
    },
  ],
};

describe("issue 14: landing pages and forms", () => {
  let h: Harness;
  let api: Api;
  let pageId = "";

  beforeAll(async () => {
    h = await startHarness();
    api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const created = await api.mutation("pages.create", {
      name: "Registration",
      slug: "registration",
    });
    pageId = created.body.result.data.id as string;
    const saved = await api.mutation("pages.save", {
      id: pageId,
      revision: 0,
      draft: registration,
    });
    expect(saved.status).toBe(200);
    const published = await api.mutation("pages.publish", { id: pageId });
    expect(published.body.result?.data.version, JSON.stringify(published.body)).toBe(1);
    const t = await api.mutation("pages.create", { name: "Thanks", slug: "thanks", draft: thanks });
    expect((await api.mutation("pages.publish", { id: t.body.result.data.id })).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  let n = 0;
  /** A customer with a PURL to the registration page, its run parked with `vars`. */
  async function purlFor(attributes: Json, vars: Json = {}) {
    n++;
    const customer = await h.db.prisma.customer.create({
      data: {
        workspaceId: h.workspaceId,
        externalId: `cust-${n}`,
        email: `c${n}@example.com`,
        attributes: attributes,
      },
    });
    const run = await h.db.prisma.journeyRun.create({
      data: {
        workspaceId: h.workspaceId,
        journeyId: "j",
        versionId: "v",
        customerId: customer.id,
        entryNumber: n,
        status: "ACTIVE",
        state: runState(`run-${n}`, customer.id, vars),
      },
    });
    const token = `tok_${n}_${Math.random().toString(36).slice(2)}`;
    await h.db.prisma.purl.create({
      data: {
        token,
        workspaceId: h.workspaceId,
        runId: run.id,
        customerId: customer.id,
        messageId: `m-${token}`,
        page: "registration",
        params: { serial: `SN-${n}`, model: "Barista Pro" },
      },
    });
    return { token, customer, run };
  }

  function formOf(html: string) {
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, "&") ?? "";
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const key = /name="_key" value="([^"]+)"/.exec(html)?.[1] ?? "";
    return { action, csrf, key };
  }

  const post = (action: string, fields: Record<string, string>) =>
    fetch(`${h.baseUrl}${action}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });

  it("renders the published page personalised, escaped, mobile-first and private; a broken template part renders empty", async () => {
    const { token } = await purlFor({ first_name: XSS });
    const res = await fetch(`${h.baseUrl}/p/${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const html = await res.text();
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain("Welcome, &lt;img src=x onerror=alert(1)&gt;!");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("Barista Pro");
    expect(html).toContain("Serial SN-");
    expect(html).toContain("Broken  end.");
    // Pre-filled from the customer and the PURL params; labels tied to inputs.
    expect(html).toMatch(/name="serial" value="SN-\d+"/);
    expect(html).toMatch(/<label for="registration-email">/);
    expect(html).toMatch(/id="registration-email"[^>]*value="c\d+@example.com"/);
    // No third-party requests, no script.
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!127\.0\.0\.1)/);
  });

  it("an unknown or expired link shows the branded expired page (404, no stack)", async () => {
    const res = await fetch(`${h.baseUrl}/p/no-such-token`);
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain("This link has expired");
    expect(html).not.toMatch(/at .*\.ts:\d+/);
    const { token } = await purlFor({});
    await h.db.prisma.purl.update({ where: { token }, data: { expiresAt: new Date(1000) } });
    expect((await fetch(`${h.baseUrl}/p/${token}`)).status).toBe(404);
  });

  it("an invalid email re-renders the page with the field error and keeps what was typed (422)", async () => {
    const { token } = await purlFor({ first_name: "Ada" });
    const f = formOf(await (await fetch(`${h.baseUrl}/p/${token}`)).text());
    const res = await post(f.action, {
      _csrf: f.csrf,
      _key: f.key,
      _hp: "",
      serial: "SN-x",
      email: "not-an-email",
      city: "Lyon <b>",
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain("Enter an email address like name@example.com.");
    const input = /<input[^>]*id="registration-email"[^>]*>/.exec(html)?.[0] ?? "";
    expect(input).toContain('value="not-an-email"');
    expect(input).toContain('aria-invalid="true"');
    expect(input).toContain('aria-describedby="registration-email-error"');
    expect(html).toContain('value="Lyon &lt;b&gt;"');
    expect(await h.db.prisma.formSubmission.count({ where: { purlToken: token } })).toBe(0);
  });

  it("a valid submit stores one submission, one form_submitted event, saves the attribute and redirects to the thank-you page with the run's coupon", async () => {
    const { token, customer } = await purlFor(
      { first_name: "Grace" },
      { coupon: { code: "SAVE30-XYZ" } },
    );
    const f = formOf(await (await fetch(`${h.baseUrl}/p/${token}`)).text());
    const fields = {
      _csrf: f.csrf,
      _key: f.key,
      _hp: "",
      serial: "SN-9",
      email: "grace@example.com",
      city: "Paris",
      consent: "on",
    };
    const res = await post(f.action, fields);
    expect(res.status).toBe(303);
    const location = res.headers.get("location") ?? "";
    expect(location).toBe(`/p/${token}/thanks/registration`);
    // A replay (reload after POST) is the same submission.
    expect((await post(f.action, fields)).status).toBe(303);
    const subs = await h.db.prisma.formSubmission.findMany({ where: { purlToken: token } });
    expect(subs).toHaveLength(1);
    expect(subs[0]?.fields).toEqual({ serial: "SN-9", email: "grace@example.com", city: "Paris" });
    expect(subs[0]?.consent).toMatchObject({
      given: true,
      text: "I agree to receive offers.",
      version: "2",
    });
    // issue 16: the ticked box subscribed Grace to email, once, with what she was shown.
    const changes = await h.db.prisma.subscriptionChange.findMany({
      where: { customerId: customer.id },
    });
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ channel: "email", status: "subscribed", source: "form" });
    expect(changes[0]?.detail).toMatchObject({
      formId: "registration",
      submissionId: subs[0]?.id,
      text: "I agree to receive offers.",
      version: "2",
    });
    const events = await h.db.prisma.event.findMany({
      where: { customerId: customer.id, name: "form_submitted" },
    });
    expect(events).toHaveLength(1);
    expect(events[0]?.properties).toMatchObject({
      form: "registration",
      formId: "registration",
      pageSlug: "registration",
      serial: "SN-9",
      email: "grace@example.com",
    });
    expect(events[0]?.messageId).toBe(`form-${subs[0]?.id}`);
    const row = await h.db.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(row.attributes).toMatchObject({ city: "Paris", first_name: "Grace" });
    const page = await fetch(`${h.baseUrl}${location}`);
    const html = await page.text();
    expect(html).toContain("Thank you, Grace");
    expect(html).toContain("SAVE30-XYZ");
  });

  it("the thank-you page waits for the coupon the journey issues a moment later, and otherwise says it is on its way", async () => {
    const late = await purlFor({ first_name: "Lin" });
    const f = formOf(await (await fetch(`${h.baseUrl}/p/${late.token}`)).text());
    const fields = {
      _csrf: f.csrf,
      _key: f.key,
      _hp: "",
      serial: "S",
      email: "l@example.com",
      city: "Oslo",
    };
    const res = await post(f.action, fields);
    expect(res.status).toBe(303);
    const loading = fetch(`${h.baseUrl}${res.headers.get("location")}`).then((r) => r.text());
    // The journey issues the coupon while the page is waiting.
    await h.db.prisma.journeyRun.update({
      where: { id: late.run.id },
      data: { state: runState("r", late.customer.id, { coupon: { code: "LATE-25" } }) },
    });
    expect(await loading).toContain("LATE-25");

    const never = await purlFor({ first_name: "Max" });
    const g = formOf(await (await fetch(`${h.baseUrl}/p/${never.token}`)).text());
    const r2 = await post(g.action, { ...fields, _csrf: g.csrf, _key: g.key });
    const html = await (await fetch(`${h.baseUrl}${r2.headers.get("location")}`)).text();
    expect(html).toContain("Your code is on its way by email.");
  });

  it("a concurrent double POST is one submission and one event", async () => {
    const { token, customer } = await purlFor({ first_name: "Dup" });
    const f = formOf(await (await fetch(`${h.baseUrl}/p/${token}`)).text());
    const fields = {
      _csrf: f.csrf,
      _key: f.key,
      _hp: "",
      serial: "S",
      email: "d@example.com",
      city: "Rome",
    };
    const results = await Promise.all([1, 2, 3, 4].map(() => post(f.action, fields)));
    expect(results.map((r) => r.status)).toEqual([303, 303, 303, 303]);
    expect(await h.db.prisma.formSubmission.count({ where: { purlToken: token } })).toBe(1);
    await waitFor(
      "the event processed",
      async () =>
        (await h.db.prisma.event.count({
          where: { customerId: customer.id, name: "form_submitted", processedAt: { not: null } },
        })) === 1,
    );
    expect(
      await h.db.prisma.event.count({ where: { customerId: customer.id, name: "form_submitted" } }),
    ).toBe(1);
  });

  it("the honeypot stores nothing; a bad CSRF token is refused (403)", async () => {
    const { token, customer } = await purlFor({ first_name: "Bot" });
    const f = formOf(await (await fetch(`${h.baseUrl}/p/${token}`)).text());
    const fields = { _csrf: f.csrf, _key: f.key, serial: "S", email: "b@example.com", city: "X" };
    const bot = await post(f.action, { ...fields, _hp: "http://spam.example" });
    expect(bot.status).toBe(303);
    const forged = await post(f.action, { ...fields, _hp: "", _csrf: "forged" });
    expect(forged.status).toBe(403);
    // A token for another link does not pass either.
    const other = await purlFor({});
    const o = formOf(await (await fetch(`${h.baseUrl}/p/${other.token}`)).text());
    expect((await post(f.action, { ...fields, _hp: "", _csrf: o.csrf })).status).toBe(403);
    expect(await h.db.prisma.formSubmission.count({ where: { purlToken: token } })).toBe(0);
    expect(
      await h.db.prisma.event.count({ where: { customerId: customer.id, name: "form_submitted" } }),
    ).toBe(0);
  });

  it("a page re-published while customers hold links: opening the link shows the new version; a form opened before is validated against the version it was shown from", async () => {
    const { token } = await purlFor({ first_name: "Old" });
    const before = formOf(await (await fetch(`${h.baseUrl}/p/${token}`)).text());
    const v2 = structuredClone(registration);
    (v2.content[0]!.props as { text: string }).text = "Version two, {{ customer.first_name }}";
    // Version 2 drops the City field.
    const form = v2.content[3]!.props as { fields: { name: string }[] };
    form.fields = form.fields.filter((x) => x.name !== "city");
    const got = await api.query("pages.get", { id: pageId });
    const rev = got.body.result.data.revision as number;
    expect(
      (await api.mutation("pages.save", { id: pageId, revision: rev, draft: v2 })).status,
    ).toBe(200);
    expect((await api.mutation("pages.publish", { id: pageId })).body.result.data.version).toBe(2);
    expect(await (await fetch(`${h.baseUrl}/p/${token}`)).text()).toContain("Version two, Old");
    // The form from version 1 still requires City (what the customer saw).
    const res = await post(before.action, {
      _csrf: before.csrf,
      _key: before.key,
      _hp: "",
      serial: "S",
      email: "o@example.com",
      city: "",
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("Fill in “City”.");
  });

  it("the per-link rate limit answers 429 after 10 posts a minute", async () => {
    const { token } = await purlFor({});
    const f = formOf(await (await fetch(`${h.baseUrl}/p/${token}`)).text());
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await post(f.action, { _csrf: "x", _key: "k", email: "" })).status);
    expect(statuses.slice(0, 10).every((s) => s === 403)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
  it("a post over the size limit is refused (413) and stores nothing", async () => {
    const { token } = await purlFor({});
    const f = formOf(await (await fetch(`${h.baseUrl}/p/${token}`)).text());
    const res = await post(f.action, {
      _csrf: f.csrf,
      _key: f.key,
      email: "a@example.com",
      city: "x".repeat(20_000),
    });
    expect(res.status).toBe(413);
    expect(await h.db.prisma.formSubmission.count({ where: { purlToken: token } })).toBe(0);
  });

  it("the page's funnel counts links, unique and total visits, submissions and submitters", async () => {
    const funnel = (await api.query("pages.funnel", { id: pageId })).body.result.data as Record<
      string,
      unknown
    > & { visits: number; visited: number; submissions: number };
    const purls = await h.db.prisma.purl.findMany({ where: { page: "registration" } });
    const subs = await h.db.prisma.formSubmission.findMany({
      where: { purlToken: { in: purls.map((p) => p.token) } },
    });
    const submitted = new Set(subs.map((s) => s.purlToken));
    expect(funnel).toMatchObject({
      links: purls.length,
      customers: new Set(purls.map((p) => p.customerId)).size,
      visited: purls.filter((p) => p.visits > 0).length,
      visits: purls.reduce((n, p) => n + p.visits, 0),
      submitted: submitted.size,
      submissions: subs.length,
      submitters: new Set(subs.map((s) => s.customerId)).size,
      runs: new Set(purls.map((p) => p.runId)).size,
      reachedGoal: 0,
    });
    expect(funnel.submissions).toBeGreaterThanOrEqual(4);
    expect(funnel.visits).toBeGreaterThan(funnel.visited);
  });

  it("a visit and a submit are counted (unique vs total, a double POST once) and written to the run's trace", async () => {
    const before = (await api.query("pages.funnel", { id: pageId })).body.result.data as Record<
      string,
      number
    >;
    const { token, run } = await purlFor({ first_name: "Trace" });
    const html = await (await fetch(`${h.baseUrl}/p/${token}`)).text();
    expect((await fetch(`${h.baseUrl}/p/${token}`)).status).toBe(200);
    const f = formOf(html);
    // Form start: the page's stylesheet asks for a same-origin image when the form takes the
    // focus (no script); twice is one start.
    const beacon = /form\[action="([^"]+)"\]:focus-within\{background-image:url\("([^"]+)"\)/.exec(
      html,
    );
    expect(beacon?.[1]).toBe(f.action);
    expect(beacon?.[2]).toBe(`/p/${token}/forms/registration/start.gif?v=2`);
    expect(html).not.toMatch(/<script/);
    for (let i = 0; i < 2; i++) {
      const pixel = await fetch(`${h.baseUrl}${beacon?.[2] ?? ""}`);
      expect(pixel.status).toBe(200);
      expect(pixel.headers.get("content-type")).toBe("image/gif");
      expect(pixel.headers.get("cache-control")).toBe("private, no-store");
    }
    // An unknown link or a bad version answers the same pixel and stores nothing.
    expect((await fetch(`${h.baseUrl}/p/nope/forms/registration/start.gif?v=2`)).status).toBe(200);
    expect((await fetch(`${h.baseUrl}/p/${token}/forms/x/start.gif?v=abc`)).status).toBe(200);
    expect(await h.db.prisma.formStart.findMany({ where: { token } })).toMatchObject([
      { formId: "registration", page: "registration", pageVersion: 2 },
    ]);
    const fields = {
      _csrf: f.csrf,
      _key: f.key,
      _hp: "",
      serial: "S",
      email: "t@example.com",
      city: "Lyon",
    };
    const posted = await Promise.all([post(f.action, fields), post(f.action, fields)]);
    expect(posted.map((r) => r.status)).toEqual([303, 303]);
    const after = (await api.query("pages.funnel", { id: pageId })).body.result.data as Record<
      string,
      number
    >;
    expect({
      links: after["links"]! - before["links"]!,
      visited: after["visited"]! - before["visited"]!,
      visits: after["visits"]! - before["visits"]!,
      started: after["started"]! - before["started"]!,
      submitted: after["submitted"]! - before["submitted"]!,
      submissions: after["submissions"]! - before["submissions"]!,
    }).toEqual({ links: 1, visited: 1, visits: 2, started: 1, submitted: 1, submissions: 1 });
    const visits = await h.db.prisma.pageVisit.findMany({ where: { token } });
    expect(visits.map((v) => [v.page, v.pageVersion, v.runId])).toEqual([
      ["registration", 2, run.id],
      ["registration", 2, run.id],
    ]);
    // The trace: one line for the opening (the reload a moment later is counted, not traced) and
    // one for the submission.
    const traces = await h.db.prisma.runTrace.findMany({
      where: { runId: run.id },
      orderBy: { id: "asc" },
    });
    expect(traces.map((t) => [t.kind, (t.detail as { text?: string }).text])).toEqual([
      ["page.visited", "Opened personal page registration"],
      ["form.submitted", "Submitted form registration"],
    ]);
  });

  it("an expired link shows the workspace's own “link expired” page, whose form asks for the serial and still reaches the journey", async () => {
    const created = await api.mutation("pages.create", {
      name: "Link expired",
      slug: "link-expired",
      draft: {
        root: { props: { title: "Link expired" } },
        content: [
          {
            type: "Heading",
            props: { id: "h", text: "This link has expired, {{ customer.first_name }}" },
          },
          {
            type: "Form",
            props: {
              id: "f",
              formId: "serial-lookup",
              fields: [{ name: "serial", label: "Serial number", type: "text", required: true }],
            },
          },
        ],
      },
    });
    expect((await api.mutation("pages.publish", { id: created.body.result.data.id })).status).toBe(
      200,
    );
    const { token, customer } = await purlFor({ first_name: "Secret" });
    await h.db.prisma.purl.update({ where: { token }, data: { expiresAt: new Date(1000) } });
    const res = await fetch(`${h.baseUrl}/p/${token}`);
    expect(res.status).toBe(404);
    const html = await res.text();
    // Not personalised: an expired link shows nothing about the customer.
    expect(html).toContain("This link has expired, </h1>");
    expect(html).not.toContain("Secret");
    const f = formOf(html);
    expect(f.action).toContain("page=link-expired");
    const empty = await post(f.action, { _csrf: f.csrf, _key: f.key, _hp: "", serial: "" });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain("Fill in “Serial number”.");
    const sent = await post(f.action, { _csrf: f.csrf, _key: f.key, _hp: "", serial: "SN-42" });
    expect(sent.status).toBe(303);
    const event = await h.db.prisma.event.findFirstOrThrow({
      where: { customerId: customer.id, name: "form_submitted" },
    });
    expect(event.properties).toMatchObject({
      form: "serial-lookup",
      pageSlug: "link-expired",
      serial: "SN-42",
    });
    expect(await (await fetch(`${h.baseUrl}${sent.headers.get("location")}`)).text()).toContain(
      "Thank you",
    );
    // The expired page's CSRF token does not open the expired link's own page forms.
    const own = f.action.replace("&page=link-expired", "");
    expect((await post(own, { _csrf: f.csrf, _key: "k2", _hp: "", serial: "x" })).status).toBe(404);
    // Unknown tokens still get the built-in page.
    expect(await (await fetch(`${h.baseUrl}/p/nope-nope`)).text()).toContain(
      "This link has expired",
    );
  });
});
