// Issue 16 (coupon pools a marketer can fill): the `coupons` router against the real Postgres —
// create with a unique name per workspace, add pasted or CSV codes (header, blanks, repeats and
// codes already in the pool counted, invalid lines reported by line number), the caps, rename and
// delete refused while a live journey gives codes from the pool or once a code was given out,
// viewers refused, odd input refused with a 400 — and the codes added are the ones the engine's
// coupon step then gives out (makeOutput) and journeys.couponPools counts as unclaimed.
import { compile, draftFromSteps, triggerOf } from "@postpath/journey";
import { makeOutput } from "@postpath/engine";
import type { Prisma } from "@postpath/db";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, createCaller } from "../router.ts";
import { openApiTestEnv, rejects, type ApiTestEnv } from "../testing.ts";
import {
  MAX_CODES_PER_UPLOAD,
  MAX_UPLOAD_BYTES,
  parseCouponCodes,
  INVALID_LINES_LISTED,
} from "./coupons.parse.ts";

describe("coupon pools (issue 16)", () => {
  let env: ApiTestEnv<"marketer" | "admin" | "viewer" | "other">;

  beforeAll(async () => {
    env = await openApiTestEnv(
      [
        ["marketer", "coupons-a", "MARKETER"],
        ["admin", "coupons-a", "ADMIN"],
        ["viewer", "coupons-a", "VIEWER"],
        ["other", "coupons-b", "MARKETER"],
      ] as const,
      { prefix: "coupons" },
    );
  });
  afterAll(async () => {
    await env?.close();
  });

  const as = (who: "marketer" | "admin" | "viewer" | "other") =>
    createCaller(env.ctxFor(env.users[who]));

  it("creates pools with a trimmed name, unique per workspace, named in the field's error", async () => {
    const m = as("marketer");
    const { id } = await m.coupons.create({ name: "  Spring 20% off  " });
    const [pool] = (await m.coupons.list()).filter((p) => p.id === id);
    expect(pool).toMatchObject({
      name: "Spring 20% off",
      codes: 0,
      left: 0,
      used: 0,
      stock: "empty",
      usedBy: [],
    });
    const dup = await rejects(as("admin").coupons.create({ name: "Spring 20% off" }));
    expect(dup.code).toBe("CONFLICT");
    expect(dup.message).toBe("name: A pool with this name already exists.");
    // Another workspace may use the same name.
    await as("other").coupons.create({ name: "Spring 20% off" });
    for (const name of ["", "   ", "x".repeat(101)]) {
      expect((await rejects(m.coupons.create({ name }))).code, name).toBe("BAD_REQUEST");
    }
    expect((await m.coupons.create({ name: "y".repeat(100) })).id).toBeTruthy();
  });

  it("over HTTP, a taken name is the name field's error and odd input a 400, never a 500", async () => {
    const post = async (path: string, input: unknown) => {
      const res = await fetchRequestHandler({
        endpoint: "/trpc",
        req: new Request(`http://api.test/trpc/${path}`, {
          method: "POST",
          body: JSON.stringify(input),
          headers: { "content-type": "application/json" },
        }),
        router: appRouter,
        createContext: () => env.ctxFor(env.users.marketer),
      });
      const body = (await res.json()) as { error?: { data?: { fieldErrors?: unknown } } };
      return { status: res.status, fieldErrors: body.error?.data?.fieldErrors };
    };
    expect((await post("coupons.create", { name: "Over HTTP" })).status).toBe(200);
    expect(await post("coupons.create", { name: "Over HTTP " })).toEqual({
      status: 409,
      fieldErrors: [{ path: "name", message: "A pool with this name already exists." }],
    });
    for (const input of [
      { id: 5, text: ["a"] },
      { id: "x", text: "a\u0000b" },
      { id: "x", text: 12 },
      null,
      "just text",
    ]) {
      expect((await post("coupons.addCodes", input)).status, JSON.stringify(input)).toBe(400);
    }
  });

  it("adds pasted codes and a CSV's first column: header, blanks, repeats and pool duplicates counted", async () => {
    const m = as("marketer");
    const { id } = await m.coupons.create({ name: "Welcome back" });
    const first = await m.coupons.addCodes({ id, text: "WB-1\nWB-2\n\n  WB-3  \nWB-2\n" });
    expect(first).toMatchObject({
      added: 3,
      alreadyInPool: 0,
      repeated: 1,
      invalid: [],
      invalidCount: 0,
      headerSkipped: false,
      codes: 3,
      left: 3,
      stock: "low",
    });
    // A CSV export (BOM, header, CRLF, quoted cells, other columns): WB-2 and WB-3 are there already.
    const csv =
      '\uFEFFCoupon Code,Value,Expires\r\nWB-2,10,2027-01-01\r\n"WB-3",10,\r\n"WB,4",5,\r\nWB-5;x\r\nWB-6\tx\r\n';
    const second = await m.coupons.addCodes({ id, text: csv });
    expect(second).toMatchObject({
      added: 3,
      alreadyInPool: 2,
      repeated: 0,
      invalidCount: 0,
      headerSkipped: true,
      codes: 6,
      left: 6,
    });
    // The same upload again adds nothing: every code is counted as already in the pool.
    expect(await m.coupons.addCodes({ id, text: csv })).toMatchObject({
      added: 0,
      alreadyInPool: 5,
      codes: 6,
    });
    const stored = await env.db.prisma.couponCode.findMany({
      where: { poolId: id },
      select: { code: true },
    });
    expect(stored.map((c) => c.code).sort()).toEqual([
      "WB,4",
      "WB-1",
      "WB-2",
      "WB-3",
      "WB-5",
      "WB-6",
    ]);
    // The coupon step's picker counts them as unclaimed.
    expect((await m.journeys.couponPools()).find((p) => p.id === id)).toMatchObject({
      codes: 6,
      unclaimed: 6,
    });
  });

  it("reports invalid lines by their line in the file, adds the rest", async () => {
    const m = as("marketer");
    const { id } = await m.coupons.create({ name: "Invalid lines" });
    const text = [
      "code", // 1: header
      "GOOD-1", // 2
      "HAS SPACE", // 3
      "x".repeat(65), // 4
      "ZW\u200bSP", // 5: zero-width space
      ",second-column-only", // 6
      "", // 7: blank, dropped
      "GOOD-2", // 8
      "Ünïcödé-€", // 9: letters and symbols of any script are fine
      "BELL\u0007", // 10: a control character
    ].join("\n");
    const r = await m.coupons.addCodes({ id, text });
    expect(r.added).toBe(3);
    expect(r.headerSkipped).toBe(true);
    expect(r.invalidCount).toBe(5);
    expect(r.invalid.map((i) => [i.line, i.reason])).toEqual([
      [3, "A code can't have spaces in it."],
      [4, "A code can be at most 64 characters long."],
      [5, "A code can only have letters, digits and punctuation (no invisible characters)."],
      [6, "There is no code in the first column."],
      [10, "A code can only have letters, digits and punctuation (no invisible characters)."],
    ]);
    // A later part of a bigger file: its lines are numbered from firstLine, and no header is dropped.
    const part = await m.coupons.addCodes({ id, text: "Code\nBAD CODE\nGOOD-3", firstLine: 5001 });
    expect(part.headerSkipped).toBe(false);
    expect(part.added).toBe(2); // "Code" is a code here
    expect(part.invalid.map((i) => i.line)).toEqual([5002]);
    // Only the first INVALID_LINES_LISTED lines are listed; all are counted.
    const many = await m.coupons.addCodes({
      id,
      text: Array.from({ length: 80 }, (_, i) => `BAD ${i}`).join("\n"),
    });
    expect(many.invalidCount).toBe(80);
    expect(many.invalid).toHaveLength(INVALID_LINES_LISTED);
    expect(many.added).toBe(0);
  });

  it("refuses too many codes or bytes at once, and odd input, with a 400 naming the limit", async () => {
    const m = as("marketer");
    const { id } = await m.coupons.create({ name: "Limits" });
    // 100,001 one-character lines fit in the byte limit but not the code cap.
    const tooMany = "A\n".repeat(MAX_CODES_PER_UPLOAD + 1);
    expect(Buffer.byteLength(tooMany)).toBeLessThan(MAX_UPLOAD_BYTES);
    const err = await rejects(m.coupons.addCodes({ id, text: tooMany }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/at most 100,000 codes at a time; this list has 100,001/);
    // Exactly the cap is fine (all repeats of one code).
    expect(
      await m.coupons.addCodes({ id, text: "A\n".repeat(MAX_CODES_PER_UPLOAD) }),
    ).toMatchObject({ added: 1, repeated: MAX_CODES_PER_UPLOAD - 1 });
    // Bytes: 200,000 characters of three bytes each are over 256 KB.
    const big = await rejects(m.coupons.addCodes({ id, text: "€".repeat(200_000) }));
    expect(big.code).toBe("BAD_REQUEST");
    expect(big.message).toMatch(/At most 256 KB of codes at a time/);
    const huge = await rejects(m.coupons.addCodes({ id, text: "x".repeat(5_000_000) }));
    expect(huge.code).toBe("BAD_REQUEST");
    for (const input of [
      { id, text: "NUL\u0000CODE" },
      { id, text: "HALF\ud800" },
      { id, text: "OK", firstLine: 0 },
      { id, text: "OK", firstLine: 1.5 },
      { id: "", text: "OK" },
      { id: "x".repeat(10_000), text: "OK" },
    ]) {
      expect((await rejects(m.coupons.addCodes(input))).code, JSON.stringify(input)).toBe(
        "BAD_REQUEST",
      );
    }
    for (const name of ["a\u0000b", "\ud800"]) {
      expect((await rejects(m.coupons.create({ name }))).code).toBe("BAD_REQUEST");
    }
    // Another workspace's pool, or one that does not exist: not found.
    const [theirs] = await as("other").coupons.list();
    expect((await rejects(m.coupons.addCodes({ id: theirs!.id, text: "X" }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await rejects(m.coupons.addCodes({ id: "nope", text: "X" }))).code).toBe("NOT_FOUND");
  });

  it("lets viewers read pools but not change them; nobody without a session", async () => {
    const { id } = await as("marketer").coupons.create({ name: "Viewer can read" });
    const v = as("viewer");
    expect((await v.coupons.get({ id })).name).toBe("Viewer can read");
    for (const call of [
      v.coupons.create({ name: "Nope" }),
      v.coupons.addCodes({ id, text: "A" }),
      v.coupons.rename({ id, name: "Nope" }),
      v.coupons.delete({ id }),
    ]) {
      expect((await rejects(call)).code).toBe("FORBIDDEN");
    }
    expect((await rejects(createCaller(env.ctxFor(null)).coupons.list())).code).toBe(
      "UNAUTHORIZED",
    );
    expect(await env.db.prisma.couponCode.count({ where: { poolId: id } })).toBe(0);
  });

  it("gives the added codes out through the coupon step; low stock; delete refused once one is used", async () => {
    const m = as("marketer");
    const ws = env.users.marketer.workspaceId;
    const { id } = await m.coupons.create({ name: "Engine pool" });
    const codes = Array.from({ length: 120 }, (_, i) => `ENG-${String(i).padStart(3, "0")}`);
    expect((await m.coupons.addCodes({ id, text: codes.join("\n") })).stock).toBe("ok");
    const given: string[] = [];
    for (let i = 0; i < 25; i++) {
      const out = await makeOutput(
        env.engine,
        "coupon",
        { source: { kind: "pool", pool: "Engine pool" }, value: { kind: "percent", amount: 10 } },
        {
          messageId: `msg-${i}`,
          idempotencyKey: `key-${i}`,
          workspaceId: ws,
          runId: `run-${i}`,
          customerId: null,
        },
      );
      given.push(String(out.code));
    }
    expect(new Set(given).size).toBe(25);
    expect(given.every((c) => codes.includes(c))).toBe(true);
    // 95 left of 120: fewer than 100 → low stock.
    expect(await m.coupons.get({ id })).toMatchObject({
      codes: 120,
      used: 25,
      left: 95,
      stock: "low",
    });
    const err = await rejects(m.coupons.delete({ id }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/^25 codes were already given to customers/);
    expect((await m.coupons.get({ id })).codes).toBe(120);
  });

  it("rename and delete are refused while a live journey gives codes from the pool; drafts are listed", async () => {
    const m = as("marketer");
    const ws = env.users.marketer.workspaceId;
    const { id } = await m.coupons.create({ name: "Live pool" });
    await m.coupons.addCodes({ id, text: "L-1\nL-2" });
    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "c" },
      {
        id: "c",
        type: "action.coupon",
        data: {
          source: { kind: "pool", pool: "Live pool" },
          value: { kind: "percent", amount: 10 },
        },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    const result = compile(draft);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const live = await env.db.prisma.journey.create({
      data: {
        workspaceId: ws,
        name: "Thank-you coupon",
        status: "LIVE",
        draft: draft as unknown as Prisma.InputJsonValue,
      },
    });
    await env.db.prisma.journeyVersion.create({
      data: {
        journeyId: live.id,
        workspaceId: ws,
        version: 1,
        schemaVersion: result.plan.schemaVersion,
        plan: result.plan as unknown as Prisma.InputJsonValue,
        triggerType: triggerOf(result.plan).type,
      },
    });
    await m.journeys.create({ name: "Coupon draft", draft });
    expect((await m.coupons.get({ id })).usedBy).toEqual([
      { journeyId: live.id, name: "Thank-you coupon", live: true },
      { journeyId: expect.any(String), name: "Coupon draft", live: false },
    ]);
    for (const call of [m.coupons.rename({ id, name: "Renamed" }), m.coupons.delete({ id })]) {
      const err = await rejects(call);
      expect(err.code).toBe("CONFLICT");
      expect(err.message).toMatch(
        /^The live journey “Thank-you coupon” gives codes from this pool/,
      );
    }
    // Renaming to its own name changes nothing and is fine.
    expect(await m.coupons.rename({ id, name: " Live pool " })).toEqual({ id, name: "Live pool" });
    // Once the journey is stopped: renamed (not to a taken name), then deleted with its unused codes.
    await env.db.prisma.journey.update({ where: { id: live.id }, data: { status: "STOPPED" } });
    const taken = await rejects(m.coupons.rename({ id, name: "Welcome back" }));
    expect(taken.code).toBe("CONFLICT");
    expect(taken.message).toBe("name: A pool with this name already exists.");
    expect(await m.coupons.rename({ id, name: "Renamed" })).toEqual({ id, name: "Renamed" });
    expect(await as("admin").coupons.delete({ id })).toEqual({ deleted: true });
    expect(await env.db.prisma.couponCode.count({ where: { poolId: id } })).toBe(0);
    expect((await rejects(m.coupons.get({ id }))).code).toBe("NOT_FOUND");
    const audit = await env.db.prisma.auditLog.findMany({
      where: { targetId: id },
      select: { action: true },
    });
    expect(audit.map((a) => a.action).sort()).toEqual([
      "couponPool.addCodes",
      "couponPool.create",
      "couponPool.delete",
      "couponPool.rename",
    ]);
  });
});

describe("parseCouponCodes", () => {
  it("recognises headers, CSV first columns and quoted cells", () => {
    expect(parseCouponCodes("Promo_Code\nA\nB")).toMatchObject({
      codes: ["A", "B"],
      headerSkipped: true,
    });
    expect(parseCouponCodes("SAVE10\nSAVE20").headerSkipped).toBe(false);
    expect(parseCouponCodes('"HE""HI""",1').codes).toEqual(['HE"HI"']);
    expect(parseCouponCodes("\r\n\r\n").lines).toBe(0);
    expect(parseCouponCodes("OK\nCAF\uFFFD").invalid).toEqual([
      {
        line: 2,
        text: "CAF\uFFFD",
        reason:
          "This line has a character that could not be read: save the file as “CSV UTF-8” or plain text.",
      },
    ]);
  });
});
