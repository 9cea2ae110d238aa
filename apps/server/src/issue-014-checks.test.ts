// issue 14, "Checked by": what issue-014-landing-pages.test.ts does not already show, on the real
// app (Postgres, Redis, in-process workers). Idempotency under concurrency with two keys at once;
// the honeypot leaves the customer untouched; the per-IP rate limit across links; CSRF tokens bound
// to link, form and version; a link that expires between showing the form and posting it; a
// hostile customer name inert everywhere Liquid reaches (title, texts, attributes, pre-fills,
// links, the thank-you page); and a form shown from version 1 submitted after version 2 is live.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FORM_RATE } from "./purl.ts";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";

const XSS = "<img src=x onerror=alert(1)>";
const QUOTE = '"><svg onload=alert(2)>';
const ESCAPED = "&lt;img src=x onerror=alert(1)&gt;";

const page = {
  root: { props: { title: "Hello {{ customer.first_name }}" } },
  content: [
    { type: "Heading", props: { id: "h", text: "Welcome, {{ customer.first_name }}!" } },
    {
      type: "Text",
      props: { id: "t", text: "{{ customer.first_name }} and {{ customer.last_name }}" },
    },
    {
      type: "ProductCard",
      props: {
        id: "p",
        title: "{{ customer.first_name }}",
        subtitle: "{{ customer.last_name }}",
        imageSrc: "{{ customer.photo }}",
        imageAlt: "{{ customer.first_name }}",
        details: "Serial {{ purl.serial }} for {{ customer.first_name }}",
      },
    },
    {
      type: "Button",
      props: { id: "b", label: "{{ customer.first_name }}", href: "{{ customer.website }}" },
    },
    {
      type: "Form",
      props: {
        id: "f",
        formId: "registration",
        title: "Register, {{ customer.first_name }}",
        thankYouSlug: "thanks",
        fields: [
          { name: "serial", label: "Serial", type: "hidden", prefill: "{{ purl.serial }}" },
          { name: "name", label: "Name", type: "text", prefill: "{{ customer.first_name }}" },
          {
            name: "email",
            label: "Email",
            type: "email",
            required: true,
            prefill: "{{ customer.email }}",
          },
          { name: "city", label: "City", type: "text", required: true, saveTo: "city" },
        ],
      },
    },
  ],
};

const thanks = {
  root: { props: { title: "Thanks {{ customer.first_name }}" } },
  content: [
    { type: "Heading", props: { id: "h", text: "Thank you, {{ customer.first_name }}" } },
    {
      type: "CouponCard",
      props: { id: "c", title: "{{ customer.last_name }}", code: "{{ coupon.code }}" },
    },
  ],
};

/** No live markup: no script, no event-handler attribute, no javascript: URL, no raw payload. */
function expectInert(html: string): void {
  expect(html).not.toMatch(/<script/i);
  // Every tag is well formed with quoted attribute values, and no attribute is an event handler.
  const opened = html.match(/<[a-z]/gi) ?? [];
  const tags = [...html.matchAll(/<[a-z][a-z0-9]*((?:\s+[^\s="'<>/]+(?:="[^"]*")?)*)\s*\/?>/gi)];
  expect(tags.length).toBe(opened.length);
  const attributes = tags.flatMap((t) =>
    [...(t[1] ?? "").replace(/="[^"]*"/g, "").matchAll(/\s([^\s="'<>/]+)/g)].map((a) =>
      a[1]!.toLowerCase(),
    ),
  );
  expect(attributes.filter((a) => a.startsWith("on"))).toEqual([]);
  expect(html).not.toMatch(/javascript:/i);
  expect(html).not.toContain("<img src=x");
  expect(html).not.toContain("<svg");
}

describe("issue 14: the checks of landing pages and forms", () => {
  let h: Harness;
  let api: ReturnType<typeof trpcHttp>;
  let pageId = "";

  beforeAll(async () => {
    h = await startHarness();
    api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const created = await api.mutation("pages.create", {
      name: "Registration",
      slug: "registration",
      draft: page,
    });
    pageId = created.body.result.data.id as string;
    const published = await api.mutation("pages.publish", { id: pageId });
    expect(published.body.result?.data.version, JSON.stringify(published.body)).toBe(1);
    const t = await api.mutation("pages.create", { name: "Thanks", slug: "thanks", draft: thanks });
    expect((await api.mutation("pages.publish", { id: t.body.result.data.id })).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  let n = 0;
  /** A customer with a PURL to the registration page (its run active, no state yet). */
  async function purlFor(attributes: Record<string, string>, vars: Record<string, unknown> = {}) {
    n++;
    const customer = await h.db.prisma.customer.create({
      data: {
        workspaceId: h.workspaceId,
        externalId: `chk-${n}`,
        email: `chk${n}@example.com`,
        attributes,
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
        state: {
          runId: `run-${n}`,
          status: "parked",
          stepId: "wait",
          entered: true,
          enteredAt: 0,
          waitUntil: null,
          parkedFor: null,
          held: false,
          trigger: null,
          customer: { id: customer.id, externalId: `chk-${n}`, attributes: {}, tags: [] },
          outputs: {},
          vars: JSON.parse(JSON.stringify(vars)) as Record<string, string>,
          converted: false,
          conversion: null,
          endedAt: null,
          exitReason: null,
          stepsRun: 1,
        },
      },
    });
    const token = `chk_${n}_${Math.random().toString(36).slice(2)}`;
    await h.db.prisma.purl.create({
      data: {
        token,
        workspaceId: h.workspaceId,
        runId: run.id,
        customerId: customer.id,
        messageId: `m-${token}`,
        page: "registration",
        params: { serial: `SN-${n}` },
      },
    });
    return { token, customer, run };
  }

  const open = async (token: string) => {
    const res = await fetch(`${h.baseUrl}/p/${token}`);
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, "&") ?? "";
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const key = /name="_key" value="([^"]+)"/.exec(html)?.[1] ?? "";
    return { status: res.status, html, action, csrf, key };
  };

  const post = (action: string, fields: Record<string, string>) =>
    fetch(`${h.baseUrl}${action}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });

  const valid = (f: { csrf: string; key: string }, extra: Record<string, string> = {}) => ({
    _csrf: f.csrf,
    _key: f.key,
    _hp: "",
    serial: "SN",
    name: "N",
    email: "n@example.com",
    city: "Turin",
    ...extra,
  });

  const submissions = (token: string) =>
    h.db.prisma.formSubmission.count({ where: { purlToken: token } });
  const events = (customerId: string) =>
    h.db.prisma.event.count({ where: { customerId, name: "form_submitted" } });

  it("a hostile customer name renders inert everywhere Liquid reaches: title, texts, card, image, button, form pre-fill and the thank-you page", async () => {
    const { token } = await purlFor(
      {
        first_name: XSS,
        last_name: QUOTE,
        photo: "javascript:alert(3)",
        website: "javascript:alert(4)",
      },
      { coupon: { code: `<b>${XSS}</b>` } },
    );
    const f = await open(token);
    expect(f.status).toBe(200);
    expectInert(f.html);
    expect(f.html).toContain(`<title>Hello ${ESCAPED}</title>`);
    expect(f.html).toContain(`Welcome, ${ESCAPED}!`);
    // Text, card title, card details, button label, form title, the pre-filled value (attribute).
    expect(f.html.split(ESCAPED).length - 1).toBeGreaterThanOrEqual(7);
    expect(f.html).toMatch(
      /id="registration-name"[^>]*value="&lt;img src=x onerror=alert\(1\)&gt;"/,
    );
    // The quote cannot close an attribute or a tag.
    expect(f.html).toContain("&quot;&gt;&lt;svg onload=alert(2)&gt;");
    // A javascript: address from the customer is not a link or an image.
    expect(f.html).not.toMatch(/<img[^>]*src="(?!https?:|\/)/);

    const res = await post(f.action, valid(f));
    expect(res.status).toBe(303);
    const thanksPage = await (await fetch(`${h.baseUrl}${res.headers.get("location")}`)).text();
    expectInert(thanksPage);
    expect(thanksPage).toContain(`Thank you, ${ESCAPED}`);
    expect(thanksPage).toContain(`&lt;b&gt;${ESCAPED}&lt;/b&gt;`);
  });

  it("concurrent posts with two idempotency keys for one link are two submissions and two events, not more", async () => {
    const { token, customer } = await purlFor({ first_name: "Twice" });
    const first = await open(token);
    const second = await open(token);
    expect(first.key).not.toBe(second.key);
    const results = await Promise.all([
      ...[1, 2, 3].map(() => post(first.action, valid(first))),
      ...[1, 2, 3].map(() => post(second.action, valid(second))),
    ]);
    expect(results.map((r) => r.status)).toEqual([303, 303, 303, 303, 303, 303]);
    expect(await submissions(token)).toBe(2);
    await waitFor(
      "both events processed",
      async () =>
        (await h.db.prisma.event.count({
          where: { customerId: customer.id, name: "form_submitted", processedAt: { not: null } },
        })) === 2,
    );
    expect(await events(customer.id)).toBe(2);
  });

  it("the honeypot: a bot's post is thanked, and the customer, submissions and events stay as they were", async () => {
    const { token, customer } = await purlFor({ first_name: "Bot", city: "Before" });
    const f = await open(token);
    const res = await post(f.action, valid(f, { _hp: "https://spam.example", city: "After" }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/p/${token}/thanks/registration`);
    expect(await submissions(token)).toBe(0);
    expect(await events(customer.id)).toBe(0);
    const row = await h.db.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(row.attributes).toMatchObject({ city: "Before" });
  });

  it("CSRF: a missing token, a token of another form or another version, or no version are refused (403) and store nothing", async () => {
    const { token, customer } = await purlFor({ first_name: "Csrf" });
    const f = await open(token);
    expect(f.action).toMatch(/\?v=1$/);
    const { _csrf, ...withoutToken } = valid(f);
    expect(_csrf).toBe(f.csrf);
    expect((await post(f.action, withoutToken)).status).toBe(403);
    // The same token for version 2 (not published) or without a version.
    expect((await post(f.action.replace("?v=1", "?v=2"), valid(f))).status).toBe(403);
    expect((await post(f.action.replace("?v=1", ""), valid(f))).status).toBe(403);
    // The token of this link and version for another form id.
    expect(
      (await post(f.action.replace("/forms/registration", "/forms/other"), valid(f))).status,
    ).toBe(403);
    // A token of the right length but altered.
    const altered = `${f.csrf.slice(0, -1)}${f.csrf.endsWith("A") ? "B" : "A"}`;
    expect((await post(f.action, valid(f, { _csrf: altered }))).status).toBe(403);
    expect(await submissions(token)).toBe(0);
    expect(await events(customer.id)).toBe(0);
    // The page's own token still works afterwards.
    expect((await post(f.action, valid(f))).status).toBe(303);
    expect(await submissions(token)).toBe(1);
  });

  it("a link that expires between showing the form and posting it: the post is refused (404), nothing stored, no thank-you page", async () => {
    const { token, customer } = await purlFor({ first_name: "Late" });
    await h.db.prisma.purl.update({
      where: { token },
      data: { expiresAt: new Date(Date.now() + 60 * 60_000) },
    });
    const f = await open(token);
    expect(f.status).toBe(200);
    expect(f.html).toContain("Welcome, Late!");
    await h.db.prisma.purl.update({
      where: { token },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const res = await post(f.action, valid(f));
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("This link has expired");
    expect(await submissions(token)).toBe(0);
    expect(await events(customer.id)).toBe(0);
    const thanksRes = await fetch(`${h.baseUrl}/p/${token}/thanks/registration`);
    expect(thanksRes.status).toBe(404);
    // The expired link's page says nothing about the customer.
    const again = await open(token);
    expect(again.status).toBe(404);
    expect(again.html).not.toContain("Late");
  });

  it("a form shown from version 1 and submitted after version 2 is live is stored against version 1; the link shows version 2", async () => {
    const { token, customer } = await purlFor({ first_name: "Held" });
    const before = await open(token);
    const v2 = structuredClone(page);
    (v2.content[0]!.props as { text: string }).text = "Version two, {{ customer.first_name }}!";
    const got = await api.query("pages.get", { id: pageId });
    const saved = await api.mutation("pages.save", {
      id: pageId,
      revision: got.body.result.data.revision as number,
      draft: v2,
    });
    expect(saved.status).toBe(200);
    const published = await api.mutation("pages.publish", { id: pageId });
    const version = published.body.result.data.version as number;
    expect(version).toBeGreaterThanOrEqual(2);
    expect((await open(token)).html).toContain("Version two, Held!");

    const res = await post(before.action, valid(before));
    expect(res.status).toBe(303);
    const sub = await h.db.prisma.formSubmission.findFirstOrThrow({ where: { purlToken: token } });
    const shown = await h.db.prisma.pageVersion.findUniqueOrThrow({
      where: { id: sub.pageVersionId },
    });
    expect(shown.version).toBe(1);
    expect(await events(customer.id)).toBe(1);
    expect(await (await fetch(`${h.baseUrl}${res.headers.get("location")}`)).text()).toContain(
      "Thank you, Held",
    );
  });

  it(`the per-IP rate limit: after ${FORM_RATE.perIp} posts a minute from one address, a post to any other link is refused (429) and stores nothing`, async () => {
    const key = `${h.prefix}:form-rate:ip:127.0.0.1`;
    await h.redis.del(key);
    try {
      // Spread over links so the per-link limit (10) is never the one that answers.
      const links = await Promise.all([1, 2, 3, 4].map(() => purlFor({ first_name: "Rate" })));
      const forms = await Promise.all(links.map((l) => open(l.token)));
      const statuses: number[] = [];
      for (let i = 0; i < FORM_RATE.perIp; i++) {
        const f = forms[i % forms.length]!;
        statuses.push((await post(f.action, valid(f, { _csrf: "wrong" }))).status);
      }
      expect(statuses.every((s) => s === 403)).toBe(true);
      const fresh = await purlFor({ first_name: "Fresh" });
      const f = await open(fresh.token);
      const refused = await post(f.action, valid(f));
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("60");
      expect(await refused.text()).toContain("Please wait a moment");
      expect(await submissions(fresh.token)).toBe(0);
      // Opening pages is not limited.
      expect((await open(fresh.token)).status).toBe(200);
    } finally {
      await h.redis.del(key);
    }
  });
});
