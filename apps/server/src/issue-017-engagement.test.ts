// Issue 17, item 1: clicks and opens through the real server, Postgres, Redis, workers and an SMTP
// sink. The delivered email's links go through /c/<signed token> (the unsubscribe link does not);
// a click answers 302 to the original URL and records email_clicked (event, trace row, rollups);
// a forged, tampered or cut-short token answers 400 with no redirect; the open pixel (turned on
// for the workspace) records email_opened.
import { startSmtpSink, type SmtpSink } from "@postpath/channels/testing";
import { generateMasterKeyText, keyringFromText } from "@postpath/engine";
import { draftFromSteps } from "@postpath/journey";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";

let h: Harness;
let smtp: SmtpSink;
const keyring = keyringFromText(generateMasterKeyText(), "test");

beforeAll(async () => {
  smtp = await startSmtpSink();
  h = await startHarness({ smtpUrl: smtp.url, keyring });
  h.engine.publicUrl = h.baseUrl;
});
afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

const ingest = (path: string, body: unknown) =>
  fetch(`${h.baseUrl}/v1/${path}`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });

const SHOP = "https://shop.example/p/1?x=1&y=2";
// Longer than Fastify's 100-character path parameters once encoded in a token.
const LONG = `https://shop.example/collections/summer?utm_source=postpath&utm_campaign=${"x".repeat(300)}`;
const hrefs = (html: string) =>
  [...html.matchAll(/<a\b[^>]*\bhref="([^"]*)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));

async function rollup(journeyId: string) {
  const [row] = await h.db.query<{
    clicked: number;
    clickedUnique: number;
    opened: number;
    openedUnique: number;
    sent: number;
    delivered: number;
  }>(
    `SELECT sum(clicked)::int AS clicked, sum("clickedUnique")::int AS "clickedUnique",
            sum(opened)::int AS opened, sum("openedUnique")::int AS "openedUnique",
            sum(sent)::int AS sent, sum(delivered)::int AS delivered
     FROM "JourneyRollup" WHERE "journeyId" = $1 AND "stepId" = 'm'`,
    [journeyId],
  );
  return row!;
}

describe("issue 17: clicks and opens", () => {
  it("tracks links (not the unsubscribe link), redirects genuine clicks, refuses forged ones, counts opens", async () => {
    await h.db.prisma.workspace.update({
      where: { id: h.workspaceId },
      data: { settings: { analytics: { trackOpens: true } } },
    });
    const api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "signup", filters: [] }, next: "m" },
      {
        id: "m",
        type: "action.email",
        data: {
          subject: "Welcome",
          format: "html",
          body: `<p>See <a href="${SHOP.replace("&", "&amp;")}">our shop</a>.</p><p><a href="${LONG}">Summer</a></p><p><a href="{{ unsubscribe_url }}">Stop these</a></p>`,
        },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    const created = await api.mutation("journeys.create", { name: "Welcome", draft });
    expect(created.status).toBe(200);
    const journeyId = created.body.result.data.id as string;
    expect((await api.mutation("journeys.publish", { id: journeyId })).status).toBe(200);

    await ingest("identify", { userId: "ada", traits: { email: "ada@example.com" } });
    await ingest("track", { userId: "ada", event: "signup" });
    const [mail] = await smtp.waitFor(1, { timeoutMs: 30_000 });
    const links = hrefs(mail!.html!);
    const tracked = links.filter((l) => l.startsWith(`${h.baseUrl}/c/`));
    const unsubscribe = links.filter((l) => l.startsWith(`${h.baseUrl}/u/`));
    expect(tracked).toHaveLength(2);
    expect(unsubscribe.length).toBeGreaterThanOrEqual(1); // never rewritten
    expect(links).not.toContain(SHOP);
    expect(mail!.text).toContain(`${h.baseUrl}/c/`);
    expect(mail!.text).not.toContain("shop.example");
    const pixel = /<img src="([^"]+\/o\/[^"]+\.gif)"/.exec(mail!.html!)?.[1];
    expect(pixel).toBeDefined();

    // A genuine click: 302 to the original URL, recorded (twice: total 2, unique 1).
    for (let i = 0; i < 2; i++) {
      const res = await fetch(tracked[0]!, { redirect: "manual" });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(SHOP);
    }
    const long = await fetch(tracked[1]!, { redirect: "manual" });
    expect(tracked[1]!.length).toBeGreaterThan(400);
    expect(long.status).toBe(302);
    expect(long.headers.get("location")).toBe(LONG);
    const ada = await h.db.prisma.customer.findFirstOrThrow({
      where: { workspaceId: h.workspaceId, externalId: "ada" },
    });
    const clicks = await waitFor("two email_clicked events", async () => {
      const ev = await h.db.prisma.event.findMany({
        where: { customerId: ada.id, name: "email_clicked" },
      });
      return ev.length === 3 ? ev : null;
    });
    expect(clicks.map((c) => (c.properties as { url: string }).url).sort()).toEqual([
      LONG,
      SHOP,
      SHOP,
    ]);
    expect(clicks[0]!.properties).toMatchObject({ journey_id: journeyId, step_id: "m" });
    const message = await h.db.prisma.message.findFirstOrThrow({ where: { customerId: ada.id } });
    expect(
      await h.db.prisma.runTrace.count({
        where: { runId: message.runId, kind: "message.clicked" },
      }),
    ).toBe(3);
    expect(await rollup(journeyId)).toMatchObject({
      clicked: 3,
      clickedUnique: 1,
      sent: 1,
      delivered: 1,
    });

    // Forged and tampered tokens: 400, no redirect anywhere.
    const token = tracked[0]!.slice(`${h.baseUrl}/c/`.length);
    const [mid, , mac] = token.split(".");
    const evil = Buffer.from("https://evil.example/login").toString("base64url");
    const flipped = mac!.startsWith("A") ? `B${mac!.slice(1)}` : `A${mac!.slice(1)}`;
    for (const bad of [
      `${mid}.${evil}.${mac}`, // another destination under the genuine MAC
      `${mid}.${token.split(".")[1]}.${flipped}`, // the MAC changed
      `${mid}.${evil}.${"x".repeat(22)}`, // made up
      token.slice(0, -3), // cut short
      `m-other.${token.split(".")[1]}.${mac}`, // another message
    ]) {
      const res = await fetch(`${h.baseUrl}/c/${bad}`, { redirect: "manual" });
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("This link doesn't work");
    }
    expect(await h.db.prisma.event.count({ where: { name: "email_clicked" } })).toBe(3);

    // The open pixel.
    const open = await fetch(pixel!);
    expect(open.status).toBe(200);
    expect(open.headers.get("content-type")).toBe("image/gif");
    expect((await open.arrayBuffer()).byteLength).toBeGreaterThan(20);
    await waitFor("email_opened", () =>
      h.db.prisma.event.findFirst({ where: { customerId: ada.id, name: "email_opened" } }),
    );
    expect(await rollup(journeyId)).toMatchObject({ opened: 1, openedUnique: 1 });
    const forgedOpen = await fetch(pixel!.replace(/\.gif$/, "x.gif"));
    expect(forgedOpen.status).toBe(400);
    // The send outcome as an event on the customer: accepted is `email_sent`; `email_delivered`
    // is only for the provider to report (delivery reports, issue-017-delivery-reports.test.ts).
    await waitFor("email_sent", () =>
      h.db.prisma.event.findFirst({ where: { customerId: ada.id, name: "email_sent" } }),
    );
    expect(
      await h.db.prisma.event.count({ where: { customerId: ada.id, name: "email_delivered" } }),
    ).toBe(0);

    // The analytics tables as CSV (signed in; another workspace's journey or none: 404).
    const csvOf = (path: string, cookie = api.cookie) =>
      fetch(`${h.baseUrl}/exports/journeys/${journeyId}/analytics/${path}`, {
        headers: cookie ? { cookie } : {},
      });
    const steps = await csvOf("steps.csv");
    expect(steps.status).toBe(200);
    expect(steps.headers.get("content-type")).toContain("text/csv");
    const lines = (await steps.text()).replace(/^\uFEFF/, "").split("\r\n");
    expect(lines[0]).toBe(
      "step,kind,variant,entered,waiting_now,sent,delivered,failed,opened,unique_opens,open_rate,clicked,unique_clicks,click_rate,conversions,conversion_rate,revenue,revenue_per_recipient",
    );
    expect(lines).toContain(
      "Send email,Send email,All,1,0,1,1,0,1,1,1.0000,3,1,1.0000,0,0.0000,0.00,0.00",
    );
    expect(lines.at(-2)).toMatch(/^"?Attribution: A conversion counts/);
    const today = new Date().toISOString().slice(0, 10);
    const daily = await csvOf(`daily.csv?from=${today}&to=${today}`);
    expect((await daily.text()).split("\r\n")[1]).toBe(`${today},1,1,0,0.00`);
    expect((await csvOf("daily.csv?from=2026-02-30&to=2026-03-01")).status).toBe(400);
    expect((await csvOf("steps.csv", "")).status).toBe(401);
    const missing = await fetch(`${h.baseUrl}/exports/journeys/nope/analytics/steps.csv`, {
      headers: { cookie: api.cookie },
    });
    expect(missing.status).toBe(404);
  });
});
