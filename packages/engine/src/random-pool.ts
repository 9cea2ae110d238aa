// Random ids without a `randomBytes` call each: bytes are taken from one 4 KB buffer of the same
// CSPRNG, refilled (a new buffer) when used up. A `randomBytes(8)` call cost ~1–2 µs of CPU per
// id on the landing-page path (request id, form key, visit event id); a slice of the pool costs
// the string conversion only. Each process and worker thread has its own pool (module state);
// bytes handed out are never handed out again.
import { randomBytes } from "node:crypto";

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/** The offset in `pool` of `n` fresh random bytes (refilling the pool when fewer are left). */
function take(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > POOL_BYTES)
    throw new RangeError(`random bytes: between 1 and ${POOL_BYTES}, not ${n}`);
  if (used + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  used += n;
  return used - n;
}

/** `randomBytes(n).toString("hex")`, from the pool. */
export function randomHex(n: number): string {
  const at = take(n);
  return pool.toString("hex", at, at + n);
}

/** `randomBytes(n).toString("base64url")`, from the pool. */
export function randomBase64url(n: number): string {
  const at = take(n);
  return pool.toString("base64url", at, at + n);
}
