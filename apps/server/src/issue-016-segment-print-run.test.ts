// Print runs from a segment (issue 14 item 5, issue 16) on the real app: a marketer mints one
// personal URL per member of a saved segment for a page (idempotent: a re-run mints only for new
// members), then downloads the same CSV and PDF proof as a journey's print run; the links open the
// personal page like any other. Real Postgres, Redis, workers and HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARDS_PER_PAGE, CSV_COLUMNS } from "./print-run.ts";
import { startHarness, trpcHttp, waitFor, type Harness } from "./testing/harness.ts";

const pageObjects = (pdf: Buffer) =>
  (pdf.toString("latin1").match(/\/Type \/Page\b(?!s)/g) ?? []).length;

describe("print run from a segment", () => {
  let h: Harness;
  let api: ReturnType<typeof trpcHttp>;
  let segmentId: string;

  const identify = async (userId: string, traits: Record<string, unknown>) => {
    const res = await fetch(`${h.baseUrl}/v1/identify`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${h.writeKey}:`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ userId, traits }),
    });
    expect(res.status).toBe(200);
  };
  const members = () => h.db.prisma.segmentMembership.count({ where: { segmentId } });

  beforeAll(async () => {
    h = await startHarness();
    api = trpcHttp(h.baseUrl);
    expect((await api.mutation("auth.signIn", h.marketer)).status).toBe(200);
    await h.db.prisma.page.create({
      data: { workspaceId: h.workspaceId, name: "Register", slug: "register", draft: {} },
    });
    for (let i = 0; i < 12; i++)
      await identify(`cust-${String(i).padStart(2, "0")}`, {
        first_name: `Name${i}`,
        city: "Lyon",
        tier: i < 11 ? "gold" : "silver",
      });
    await waitFor(
      "12 customers",
      async () =>
        (await h.db.prisma.customer.count({ where: { workspaceId: h.workspaceId } })) === 12,
    );
    const created = await api.mutation("segments.create", {
      name: "Gold card holders",
      definition: { rules: [{ kind: "attribute", property: "tier", op: "eq", value: "gold" }] },
    });
    expect(created.status).toBe(200);
    segmentId = created.body.result.data.id as string;
    await waitFor("the segment's membership", async () => (await members()) === 11, {
      progress: members,
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("mints one PURL per member once, and exports them as CSV and PDF", async () => {
    const mint = (input: Record<string, unknown>) =>
      api.mutation("segments.mintPurls", { id: segmentId, page: "register", ...input });
    const first = await mint({ drop: "winter" });
    expect(first.status).toBe(200);
    expect(first.body.result.data).toMatchObject({ members: 11, created: 11, drop: "winter" });
    // Re-running the same drop mints nothing new.
    expect((await mint({ drop: "winter" })).body.result.data).toMatchObject({ created: 0 });
    // A new member gets a link on the next run; the others keep theirs.
    await identify("cust-11", { tier: "gold" });
    await waitFor("the new member", async () => (await members()) === 12, { progress: members });
    expect((await mint({ drop: "winter" })).body.result.data).toMatchObject({
      members: 12,
      created: 1,
    });
    // Unknown page: 400 naming the field.
    const bad = await mint({ page: "nope" });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/^page:/);

    const base = `${h.baseUrl}/exports/segments/${segmentId}/drops/winter/pages/register`;
    const summary = await fetch(`${base}/summary`, { headers: { cookie: api.cookie } });
    expect(await summary.json()).toMatchObject({ purls: 12, pages: 2, canExport: true });
    const csv = await fetch(`${base}/purls.csv`, { headers: { cookie: api.cookie } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("x-print-run-rows")).toBe("12");
    const lines = (await csv.text())
      .replace(/^\uFEFF/, "")
      .trim()
      .split("\r\n");
    expect(lines[0]).toBe(CSV_COLUMNS.join(","));
    expect(lines).toHaveLength(13);
    const purls = await h.db.prisma.purl.findMany({
      where: { workspaceId: h.workspaceId, page: "register" },
    });
    expect(purls).toHaveLength(12);
    const publicBase = h.engine.publicUrl.replace(/\/$/, "");
    for (const p of purls)
      expect(lines.some((l) => l.includes(`${publicBase}/p/${p.token}`))).toBe(true);
    expect(lines.find((l) => l.startsWith("cust-03,"))).toMatch(/^cust-03,Name3,/);

    const pdf = await fetch(`${base}/proof.pdf`, { headers: { cookie: api.cookie } });
    expect(pdf.status).toBe(200);
    expect(pageObjects(Buffer.from(await pdf.arrayBuffer()))).toBe(Math.ceil(12 / CARDS_PER_PAGE));

    // Another drop is a separate set of links; a segment of nobody's workspace is 404; no cookie 401.
    expect((await mint({ drop: "spring" })).body.result.data).toMatchObject({ created: 12 });
    expect(
      (
        await fetch(`${h.baseUrl}/exports/segments/nope/drops/winter/pages/register/purls.csv`, {
          headers: { cookie: api.cookie },
        })
      ).status,
    ).toBe(404);
    expect((await fetch(`${base}/purls.csv`)).status).toBe(401);

    // A minted link opens the personal page route (not the expired-link page's 404/410).
    const visit = await fetch(`${h.baseUrl}/p/${purls[0]!.token}`);
    expect(visit.status).not.toBe(404);
    expect(visit.status).toBeLessThan(500);
  });
});
