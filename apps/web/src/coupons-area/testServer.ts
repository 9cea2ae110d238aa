// issue 16: a fake API at the HTTP boundary for the Coupons area's jsdom tests: `coupons.*`
// answered from memory with the server's rules in small (names unique, codes one per line or
// first column, a header line skipped, repeats and codes already in the pool counted, codes with
// spaces skipped by line number, delete refused once a code was given out).
import type { Me } from "../api/contract.ts";
import { ApiError, stubTrpc, type Handlers } from "../test/trpcStub.ts";
import type { AddCodesResult, CouponPoolRow } from "./contract.ts";

export interface FakePool {
  id: string;
  name: string;
  codes: string[];
  used: number;
  usedBy: CouponPoolRow["usedBy"];
}

function row(p: FakePool): CouponPoolRow {
  const left = p.codes.length - p.used;
  return {
    id: p.id,
    name: p.name,
    createdAt: "2026-12-01T09:30:00.000Z",
    codes: p.codes.length,
    left,
    used: p.used,
    stock: left === 0 ? "empty" : left < 100 || left < p.codes.length * 0.1 ? "low" : "ok",
    usedBy: p.usedBy,
  };
}

export function fakeCouponsServer(me: Me, pools: FakePool[] = []) {
  const find = (id: unknown) => {
    const p = pools.find((x) => x.id === id);
    if (!p) throw new ApiError("NOT_FOUND", "No coupon pool with that id here.");
    return p;
  };
  const nameFree = (name: string, self?: string) => {
    if (pools.some((p) => p.name === name && p.id !== self))
      throw new ApiError("CONFLICT", "A pool with this name already exists.");
  };
  const handlers: Handlers = {
    "auth.me": () => me,
    "coupons.list": () =>
      [...pools].sort((a, b) => a.name.localeCompare(b.name)).map((p) => row(p)),
    "coupons.get": (input) => row(find((input as { id: string }).id)),
    "coupons.create": (input) => {
      const name = (input as { name: string }).name;
      nameFree(name);
      const id = `pool${pools.length + 1}`;
      pools.push({ id, name, codes: [], used: 0, usedBy: [] });
      return { id };
    },
    "coupons.rename": (input) => {
      const i = input as { id: string; name: string };
      nameFree(i.name, i.id);
      find(i.id).name = i.name;
      return { id: i.id, name: i.name };
    },
    "coupons.delete": (input) => {
      const p = find((input as { id: string }).id);
      if (p.used > 0)
        throw new ApiError(
          "CONFLICT",
          `${p.used} codes were already given to customers from this pool: it is kept as the record of who got which code. Leave it unused instead.`,
        );
      pools.splice(pools.indexOf(p), 1);
      return { deleted: true };
    },
    "coupons.addCodes": (input): AddCodesResult => {
      const i = input as { id: string; text: string; firstLine: number };
      const p = find(i.id);
      const r: AddCodesResult = {
        added: 0,
        alreadyInPool: 0,
        repeated: 0,
        invalid: [],
        invalidCount: 0,
        headerSkipped: false,
        codes: 0,
        left: 0,
        stock: "empty",
      };
      const seen = new Set<string>();
      let first = i.firstLine === 1;
      i.text.split(/\r\n|\n/).forEach((line, n) => {
        const code = line.split(",")[0]?.trim() ?? "";
        if (!code) return;
        if (first) {
          first = false;
          if (/^code$/i.test(code)) {
            r.headerSkipped = true;
            return;
          }
        }
        if (/\s/.test(code)) {
          r.invalidCount++;
          r.invalid.push({
            line: i.firstLine + n,
            text: line,
            reason: "A code can't have spaces in it.",
          });
        } else if (seen.has(code)) r.repeated++;
        else if (p.codes.includes(code)) {
          seen.add(code);
          r.alreadyInPool++;
        } else {
          seen.add(code);
          p.codes.push(code);
          r.added++;
        }
      });
      return { ...r, codes: p.codes.length, left: row(p).left, stock: row(p).stock };
    },
  };
  const calls = stubTrpc(handlers);
  return { pools, calls, callsTo: (path: string) => calls.filter((c) => c.path === path) };
}
