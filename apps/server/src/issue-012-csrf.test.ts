// issue 12, finding 7: a page on another site could sign a user out (or reach any mutation) with a
// form POST carrying the user's cookie. Mutations now need JSON plus the app's client header or an
// Origin equal to PUBLIC_URL's; the web app's own tRPC client sends the header.
import { makeTrpcClient } from "@postpath/web/src/trpc.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, trpcHttp, type Harness } from "./testing/harness.ts";

const PUBLIC_URL = "https://postpath.example.com";

describe("issue-012-csrf: mutations refuse cross-site requests", () => {
  let h: Harness;
  let cookie: string;

  beforeAll(async () => {
    h = await startHarness({ app: { publicUrl: PUBLIC_URL } });
    const api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    cookie = api.cookie;
    expect(cookie).toMatch(/^pp_session=/);
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (path: string, headers: Record<string, string>, body: RequestInit["body"]) =>
    fetch(`${h.baseUrl}/trpc/${path}`, { method: "POST", headers: { cookie, ...headers }, body });
  const signedIn = async () => {
    const res = await fetch(`${h.baseUrl}/trpc/auth.me`, { headers: { cookie } });
    const body = (await res.json()) as { result?: { data: { email?: string } | null } };
    return body.result?.data?.email === h.marketer.email;
  };
  const journeys = () => h.db.prisma.journey.count({ where: { workspaceId: h.workspaceId } });

  it("a multipart/form-data POST to auth.signOut is refused and the session stays", async () => {
    const form = new FormData();
    form.set("x", "1");
    const res = await post("auth.signOut", { origin: "https://evil.example" }, form);
    expect(res.status).toBe(415);
    expect(await signedIn()).toBe(true);
    // Even without an Origin header (some browsers omit it).
    expect((await post("auth.signOut", {}, form)).status).toBe(415);
    expect(await signedIn()).toBe(true);
  });

  it("a text/plain POST (what a form can send as JSON-looking text) is refused and creates nothing", async () => {
    const before = await journeys();
    const res = await post(
      "journeys.create",
      { "content-type": "text/plain", origin: "https://evil.example" },
      JSON.stringify({ name: "Planted" }),
    );
    expect(res.status).toBe(415);
    const url = await post(
      "journeys.create",
      { "content-type": "application/x-www-form-urlencoded" },
      "name=Planted",
    );
    expect(url.status).toBe(415);
    expect(await journeys()).toBe(before);
  });

  it("JSON without the client header is refused unless its Origin is PUBLIC_URL's", async () => {
    const before = await journeys();
    const body = JSON.stringify({ name: "Cross-site" });
    for (const origin of [undefined, "https://evil.example", "http://postpath.example.com"]) {
      const res = await post(
        "journeys.create",
        { "content-type": "application/json", ...(origin ? { origin } : {}) },
        body,
      );
      expect(res.status, String(origin)).toBe(403);
      const err = (await res.json()) as { error: { message: string; data: { code: string } } };
      expect(err.error.data.code).toBe("FORBIDDEN");
    }
    expect(await journeys()).toBe(before);
    const same = await post(
      "journeys.create",
      { "content-type": "application/json", origin: PUBLIC_URL },
      JSON.stringify({ name: "Same origin" }),
    );
    expect(same.status).toBe(200);
    expect(await journeys()).toBe(before + 1);
  });

  it("the web app's own client (JSON + its header) is accepted, for mutations and queries", async () => {
    const realFetch = globalThis.fetch;
    // Node has no cookie jar: add the session cookie as the browser would.
    globalThis.fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set("cookie", cookie);
      return realFetch(input, { ...init, headers });
    };
    try {
      const client = makeTrpcClient(`${h.baseUrl}/trpc`);
      const created = await client.journeys.create.mutate({ name: "From the app" });
      expect(created.id).toBeTruthy();
      expect((await client.journeys.get.query({ id: created.id })).name).toBe("From the app");
      await client.auth.signOut.mutate();
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(await signedIn()).toBe(false);
  });

  it("ingest (/v1, write key) and GET queries are unaffected", async () => {
    const res = await fetch(`${h.baseUrl}/v1/track`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
      },
      body: JSON.stringify({ userId: "u1", event: "Viewed" }),
    });
    expect(res.status).toBe(200);
    const me = await fetch(`${h.baseUrl}/trpc/auth.me`);
    expect(me.status).toBe(200);
    expect(me.headers.get("x-request-id")).toMatch(/^[0-9a-f]{16}$/);
  });
});
