// Pooled random ids (random-pool.ts): the same length and alphabet as a `randomBytes` call each,
// never the same bytes twice — also across the pool's refills — and the ids built on them keep
// their format.
import { describe, expect, it } from "vitest";
import { newCustomerId, newEventId } from "./group-commit.ts";
import { randomBase64url, randomHex } from "./random-pool.ts";

describe("pooled random bytes", () => {
  it("hex and base64url of the asked length, unique across many refills", () => {
    const seen = new Set<string>();
    // 3,000 × (8 + 3 + 16) bytes: about 20 refills of the 4 KB pool, with odd sizes that do not
    // divide it (a refill leaves the old pool's tail unused, never re-used).
    for (let i = 0; i < 3000; i++) {
      const a = randomHex(8);
      const b = randomHex(3);
      const c = randomBase64url(16);
      expect(a).toMatch(/^[0-9a-f]{16}$/);
      expect(b).toMatch(/^[0-9a-f]{6}$/);
      expect(c).toMatch(/^[A-Za-z0-9_-]{22}$/);
      seen.add(a).add(c);
    }
    expect(seen.size).toBe(6000);
  });

  it("takes the whole pool in one piece, and refuses sizes it cannot give", () => {
    expect(randomHex(4096)).toHaveLength(8192);
    expect(() => randomHex(4097)).toThrow(RangeError);
    expect(() => randomHex(0)).toThrow(RangeError);
  });

  it("is not a constant: bits vary at every position", () => {
    const ids = Array.from({ length: 400 }, () => randomHex(8));
    for (let pos = 0; pos < 16; pos++)
      expect(new Set(ids.map((s) => s[pos])).size).toBeGreaterThan(8);
  });

  it("event and customer ids keep their format", () => {
    const events = Array.from({ length: 2000 }, () => newEventId());
    for (const id of events) expect(id).toMatch(/^e[0-9a-z]{9}[0-9a-z]{4}[0-9a-f]{8}[0-9a-f]{6}$/);
    expect(new Set(events).size).toBe(events.length);
    expect(newCustomerId()).toMatch(/^c[0-9a-z]{9}[0-9a-f]{16}$/);
  });
});
