// Where requests from steps may go (SSRF protection). Every provider's HTTP request goes through
// http.ts, which connects only to addresses this module accepts: a host name is resolved, every
// address it resolves to is checked, and the connection is made to the checked address (the
// check sits in the socket's own DNS lookup, so a second, different answer cannot slip in
// between check and connect). Loopback, private, link-local (cloud metadata at 169.254.169.254),
// unspecified and reserved addresses — also inside IPv4-mapped and other IPv6 forms that carry an
// IPv4 address — are refused unless an admin allows the host (OUTBOUND_ALLOW_HOSTS).
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";

export interface OutboundPolicy {
  /**
   * Hosts requests may reach even though they are private: host names (exact, case-insensitive),
   * IP addresses, or CIDR ranges ("10.0.0.0/8", "fd00::/8"). An allowed name skips the check of
   * what it resolves to; an allowed address or range admits that address however it was reached.
   */
  allowHosts: readonly string[];
}

/** The default: public addresses only. */
export const PUBLIC_ONLY: OutboundPolicy = Object.freeze({ allowHosts: Object.freeze([]) });

export type AddressKind = "loopback" | "private" | "link-local" | "unspecified" | "reserved";

const KIND_WORDS: Record<AddressKind, string> = {
  loopback: "a loopback address (this machine)",
  private: "a private network address",
  "link-local": "a link-local address (such as a cloud metadata service)",
  unspecified: "an unspecified address",
  reserved: "a reserved address",
};

/** Thrown (as the socket's lookup error, or before connecting) for a destination the policy refuses. */
export class OutboundRefusedError extends Error {
  override readonly name = "OutboundRefusedError";
  readonly code = "EPOSTPATH_OUTBOUND_REFUSED";
  constructor(
    readonly host: string,
    readonly address: string,
    readonly kind: AddressKind,
  ) {
    super(
      host === address
        ? `the address ${address} is ${KIND_WORDS[kind]}; an admin can allow this host (OUTBOUND_ALLOW_HOSTS)`
        : `${host} resolves to ${KIND_WORDS[kind]} (${address}); an admin can allow this host (OUTBOUND_ALLOW_HOSTS)`,
    );
  }
}

// ---- address classification ----

type V4Rule = [base: string, prefix: number, kind: AddressKind];
const V4_RULES: V4Rule[] = [
  ["0.0.0.0", 8, "unspecified"], // "this network"
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "private"], // shared address space (carrier-grade NAT)
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"], // incl. 169.254.169.254, cloud metadata
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"], // IETF protocol assignments
  ["192.0.2.0", 24, "reserved"], // documentation
  ["192.88.99.0", 24, "reserved"], // 6to4 relay anycast
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "private"], // benchmarking
  ["198.51.100.0", 24, "reserved"], // documentation
  ["203.0.113.0", 24, "reserved"], // documentation
  ["224.0.0.0", 4, "reserved"], // multicast
  ["240.0.0.0", 4, "reserved"], // reserved, incl. broadcast
];

function v4ToInt(address: string): number | null {
  if (net.isIPv4(address) === false) return null;
  const parts = address.split(".").map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function inV4(ip: number, base: number, prefix: number): boolean {
  if (prefix === 0) return true;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return (ip & mask) >>> 0 === (base & mask) >>> 0;
}

const V4_TABLE = V4_RULES.map(([base, prefix, kind]) => ({ base: v4ToInt(base)!, prefix, kind }));

function classifyV4Int(ip: number): AddressKind | null {
  for (const r of V4_TABLE) if (inV4(ip, r.base, r.prefix)) return r.kind;
  return null;
}

/** 16 bytes of an IPv6 address (zone id dropped), or null when it is not one. */
export function ipv6Bytes(input: string): Uint8Array | null {
  const address = input.replace(/^\[|\]$/g, "").split("%")[0]!;
  if (!net.isIPv6(address)) return null;
  let head = address;
  let tail4: number[] = [];
  const lastColon = address.lastIndexOf(":");
  const maybeV4 = address.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    const n = v4ToInt(maybeV4);
    if (n === null) return null;
    tail4 = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    head = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes("::") ? head.split("::") : [head, undefined];
  const groups = (s: string | undefined) => (s ? s.split(":").filter((g) => g !== "") : []);
  const l = groups(left);
  const r = groups(right);
  const fill = right === undefined ? 0 : 8 - l.length - r.length;
  const all = [...l, ...Array<string>(fill).fill("0"), ...r];
  if (all.length !== 8) return null;
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  });
  if (tail4.length) bytes.set(tail4, 12);
  return bytes;
}

function startsWith(bytes: Uint8Array, prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((bytes[byte]! & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const v4At = (b: Uint8Array, at: number) =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

function classifyV6(b: Uint8Array): AddressKind | null {
  const zeros = (n: number) => b.subarray(0, n).every((x) => x === 0);
  if (zeros(16)) return "unspecified";
  if (zeros(15) && b[15] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d): the IPv4 address decides.
  if (zeros(10) && b[10] === 0xff && b[11] === 0xff) return classifyV4Int(v4At(b, 12)) ?? null;
  if (zeros(12)) return classifyV4Int(v4At(b, 12)) ?? "reserved";
  // NAT64 (64:ff9b::/96) carries an IPv4 address; the local-use range 64:ff9b:1::/48 is private.
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b], 96)) return classifyV4Int(v4At(b, 12));
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return "private";
  // 6to4 (2002::/16) carries an IPv4 address in bits 16-47.
  if (startsWith(b, [0x20, 0x02], 16)) return classifyV4Int(v4At(b, 2));
  if (startsWith(b, [0xfc], 7)) return "private"; // unique local fc00::/7
  if (startsWith(b, [0xfe, 0x80], 10)) return "link-local"; // fe80::/10
  if (startsWith(b, [0xfe, 0xc0], 10)) return "private"; // site-local (deprecated)
  if (startsWith(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return "reserved"; // documentation
  if (startsWith(b, [0x20, 0x01, 0x00, 0x00], 32)) return "reserved"; // Teredo
  // Everything outside global unicast 2000::/3 (multicast ff00::/8, discard 100::/64, …).
  if (!startsWith(b, [0x20], 3)) return "reserved";
  return null;
}

/** Why an IP address may not be reached by default, or null for a public address. */
export function classifyAddress(address: string): AddressKind | null {
  const v4 = v4ToInt(address);
  if (v4 !== null) return classifyV4Int(v4);
  const v6 = ipv6Bytes(address);
  return v6 ? classifyV6(v6) : "reserved";
}

// ---- the policy, compiled ----

interface Range {
  bytes: Uint8Array;
  bits: number;
}

/** An IP (v4 as ::ffff:a.b.c.d) as 16 bytes. */
function toBytes16(address: string): Uint8Array | null {
  const v4 = v4ToInt(address);
  if (v4 !== null) return ipv6Bytes(`::ffff:${address}`);
  return ipv6Bytes(address);
}

interface CompiledPolicy {
  names: Set<string>;
  ranges: Range[];
  agents: { http: http.Agent; https: https.Agent };
}

const normaliseHost = (host: string) =>
  host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");

export class OutboundPolicyError extends Error {
  override readonly name = "OutboundPolicyError";
}

/** Parses one allow-list entry; throws OutboundPolicyError for something that is none of the three. */
function parseEntry(entry: string): { name: string } | { range: Range } {
  const raw = normaliseHost(entry);
  const [host, bitsText] = raw.split("/");
  const bytes = toBytes16(host ?? "");
  if (bytes) {
    const isV4 = v4ToInt(host!) !== null;
    const max = isV4 ? 32 : 128;
    const bits = bitsText === undefined ? max : Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > max)
      throw new OutboundPolicyError(`"${entry}": the prefix length must be 0-${max}`);
    return { range: { bytes, bits: isV4 ? bits + 96 : bits } };
  }
  if (bitsText !== undefined || !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(raw))
    throw new OutboundPolicyError(
      `"${entry}" is not a host name, an IP address or a CIDR range (10.0.0.0/8)`,
    );
  return { name: raw };
}

/** Checks an allow-list (for env parsing): the problem with the first bad entry, or null. */
export function allowListProblem(entries: readonly string[]): string | null {
  try {
    for (const e of entries) parseEntry(e);
    return null;
  } catch (err) {
    if (err instanceof OutboundPolicyError) return err.message;
    throw err;
  }
}

const compiled = new Map<string, CompiledPolicy>();
const MAX_COMPILED = 32;

function compile(policy: OutboundPolicy): CompiledPolicy {
  const key = policy.allowHosts.join("\n");
  const hit = compiled.get(key);
  if (hit) return hit;
  const names = new Set<string>();
  const ranges: Range[] = [];
  for (const entry of policy.allowHosts) {
    const parsed = parseEntry(entry);
    if ("name" in parsed) names.add(parsed.name);
    else ranges.push(parsed.range);
  }
  const partial = { names, ranges } as CompiledPolicy;
  const lookup = checkedLookup(partial);
  // Keep-alive pools per policy: a socket checked under one policy is never reused under another.
  const keepAlive = compiled.size < MAX_COMPILED;
  partial.agents = {
    http: new http.Agent({ keepAlive, lookup }),
    https: new https.Agent({ keepAlive, lookup }),
  };
  if (keepAlive) compiled.set(key, partial);
  return partial;
}

function allowedAddress(policy: CompiledPolicy, address: string): boolean {
  if (policy.ranges.length === 0) return false;
  const bytes = toBytes16(address);
  if (!bytes) return false;
  return policy.ranges.some((r) => startsWith(bytes, [...r.bytes], r.bits));
}

/** The refusal for connecting to `address` (reached through `host`), or null when allowed. */
function refusal(
  policy: CompiledPolicy,
  host: string,
  address: string,
): OutboundRefusedError | null {
  const kind = classifyAddress(address);
  if (kind === null || allowedAddress(policy, address)) return null;
  return new OutboundRefusedError(host, address, kind);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

function checkedLookup(policy: CompiledPolicy) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    const allowedName = policy.names.has(normaliseHost(hostname));
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowedName) {
        for (const a of addresses) {
          const refused = refusal(policy, hostname, a.address);
          if (refused) return callback(refused, []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) {
        const none: NodeJS.ErrnoException = new Error(`no address for ${hostname}`);
        none.code = "ENOTFOUND";
        return callback(none, []);
      }
      callback(null, first.address, first.family);
    });
  };
}

/**
 * What http.ts needs to open a connection to `hostname` under `policy`: the keep-alive agents
 * whose socket lookup checks every resolved address. An IP literal is never looked up, so it is
 * checked here; a refused one throws OutboundRefusedError.
 */
export function outboundFor(
  policy: OutboundPolicy,
  hostname: string,
): { http: http.Agent; https: https.Agent } {
  const p = compile(policy);
  const host = normaliseHost(hostname);
  if (net.isIP(host) !== 0 && !p.names.has(host)) {
    const refused = refusal(p, host, host);
    if (refused) throw refused;
  }
  return p.agents;
}
