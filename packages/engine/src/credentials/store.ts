// Channel credentials at rest: the provider config (with its secrets) is sealed per record; only
// kind, label, the secret's last 4 characters and usage times are readable without the keyring.
import { randomUUID } from "node:crypto";
import {
  configSchemas,
  createProvider,
  type Channel,
  type Provider,
  type ProviderDependencies,
} from "@postpath/channels";
import type { ChannelKind, Database } from "@postpath/db";
import { openSecret, sealSecret, unwrapKey, wrapKey } from "./envelope.ts";
import type { Keyring } from "./keyring.ts";

/** Stored credential kinds → the channel whose provider they configure. */
export const CHANNEL_OF_KIND = {
  SMTP: "email",
  SMS: "sms",
  PUSH: "push",
  WEBHOOK: "webhook",
  SLACK: "notify",
} as const satisfies Record<ChannelKind, Channel>;

export function kindOfChannel(channel: string): ChannelKind | null {
  for (const [kind, ch] of Object.entries(CHANNEL_OF_KIND))
    if (ch === channel) return kind as ChannelKind;
  return null;
}

export class CredentialConfigError extends Error {
  override name = "CredentialConfigError";
  constructor(readonly issues: { path: string; message: string }[]) {
    super(
      `invalid credential: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`,
    );
  }
}

/** Validates an admin's config for `kind` (paths and messages only in errors, never values). */
export function parseCredentialConfig(kind: ChannelKind, config: unknown): Record<string, unknown> {
  const schema = configSchemas[CHANNEL_OF_KIND[kind]];
  const result = schema.safeParse(config);
  if (!result.success)
    throw new CredentialConfigError(
      result.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
    );
  const parsed = result.data as Record<string, unknown>;
  if (kind === "SMTP" && parsed.transport === "log")
    throw new CredentialConfigError([
      { path: "transport", message: "an SMTP credential needs an SMTP server" },
    ]);
  return parsed;
}

function urlPassword(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

/** Every secret string inside a config, the primary one first (its last 4 are shown). */
export function secretsOf(kind: ChannelKind, config: Record<string, unknown>): string[] {
  const list: (string | undefined)[] = [];
  switch (kind) {
    case "SMTP": {
      const auth = config.auth as { pass?: string } | undefined;
      list.push(auth?.pass, urlPassword(config.url));
      if (urlPassword(config.url)) list.push(config.url as string);
      break;
    }
    case "SMS":
      list.push(config.authToken as string | undefined);
      break;
    case "PUSH":
      list.push(config.apiKey as string | undefined);
      break;
    case "WEBHOOK":
      list.push(
        config.secret as string | undefined,
        ...Object.values((config.headers ?? {}) as Record<string, string>),
      );
      break;
    case "SLACK":
      list.push(config.url as string | undefined);
      break;
  }
  return list.filter((s): s is string => typeof s === "string" && s.length > 0);
}

/** The last 4 characters of the primary secret; nothing for secrets too short to hide the rest. */
export function last4Of(kind: ChannelKind, config: Record<string, unknown>): string {
  const primary = secretsOf(kind, config)[0] ?? "";
  return primary.length >= 8 ? primary.slice(-4) : "";
}

/** Replaces every known secret in a text (provider answers, error messages) with "[redacted]". */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[redacted]");
  return out;
}

const aad = (workspaceId: string, kind: ChannelKind) =>
  `postpath:credential:v1:${workspaceId}:${kind}`;

/** The only columns ever returned to clients. */
export const credentialPublicSelect = {
  id: true,
  kind: true,
  label: true,
  last4: true,
  createdAt: true,
  updatedAt: true,
  lastUsedAt: true,
  lastTestedAt: true,
  lastTestOk: true,
  lastTestDetail: true,
} as const;

// Bytes are written through SQL `decode(<base64>, 'base64')`: the embedded PGlite adapter
// (pglite-prisma-adapter 0.6) cannot bind Prisma's Bytes arguments, Postgres takes both.
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

export async function createCredential(
  db: Database,
  keyring: Keyring,
  input: { workspaceId: string; kind: ChannelKind; label: string; config: unknown },
) {
  const config = parseCredentialConfig(input.kind, input.config);
  const sealed = sealSecret(keyring, JSON.stringify(config), aad(input.workspaceId, input.kind));
  const id = `c${randomUUID().replace(/-/g, "")}`;
  await db.prisma.$executeRaw`
    INSERT INTO "ChannelCredential" (id, "workspaceId", kind, label, last4, ciphertext, iv, "authTag", "wrappedKey", "masterKeyId", "updatedAt")
    VALUES (${id}, ${input.workspaceId}, ${input.kind}::"ChannelKind", ${input.label}, ${last4Of(input.kind, config)},
      decode(${b64(sealed.ciphertext)}, 'base64'), decode(${b64(sealed.iv)}, 'base64'), decode(${b64(sealed.authTag)}, 'base64'),
      decode(${b64(sealed.wrappedKey)}, 'base64'), ${sealed.masterKeyId}, now())`;
  return db.prisma.channelCredential.findUniqueOrThrow({
    where: { id },
    select: credentialPublicSelect,
  });
}

/** Replaces a credential's secret config (a fresh data key too). Null when not in this workspace. */
export async function rotateCredential(
  db: Database,
  keyring: Keyring,
  input: { workspaceId: string; id: string; config: unknown; label?: string | undefined },
) {
  const row = await db.prisma.channelCredential.findFirst({
    where: { id: input.id, workspaceId: input.workspaceId },
    select: { kind: true },
  });
  if (!row) return null;
  const config = parseCredentialConfig(row.kind, input.config);
  const sealed = sealSecret(keyring, JSON.stringify(config), aad(input.workspaceId, row.kind));
  const n = await db.prisma.$executeRaw`
    UPDATE "ChannelCredential" SET
      ciphertext = decode(${b64(sealed.ciphertext)}, 'base64'), iv = decode(${b64(sealed.iv)}, 'base64'),
      "authTag" = decode(${b64(sealed.authTag)}, 'base64'), "wrappedKey" = decode(${b64(sealed.wrappedKey)}, 'base64'),
      "masterKeyId" = ${sealed.masterKeyId}, last4 = ${last4Of(row.kind, config)}, label = COALESCE(${input.label ?? null}, label),
      "lastTestedAt" = NULL, "lastTestOk" = NULL, "lastTestDetail" = NULL, "updatedAt" = now()
    WHERE id = ${input.id} AND "workspaceId" = ${input.workspaceId}`;
  if (n === 0) return null;
  return db.prisma.channelCredential.findUniqueOrThrow({
    where: { id: input.id },
    select: credentialPublicSelect,
  });
}

export interface DecryptedCredential {
  id: string;
  kind: ChannelKind;
  updatedAt: Date;
  config: Record<string, unknown>;
  secrets: string[];
}

export async function readCredential(
  db: Database,
  keyring: Keyring,
  where: { workspaceId: string; id?: string; kind?: ChannelKind },
): Promise<DecryptedCredential | null> {
  const row = await db.prisma.channelCredential.findFirst({
    where: {
      workspaceId: where.workspaceId,
      ...(where.id ? { id: where.id } : {}),
      ...(where.kind ? { kind: where.kind } : {}),
    },
    orderBy: { createdAt: "desc" },
  });
  if (!row) return null;
  const config = JSON.parse(openSecret(keyring, row, aad(row.workspaceId, row.kind))) as Record<
    string,
    unknown
  >;
  return {
    id: row.id,
    kind: row.kind,
    updatedAt: row.updatedAt,
    config,
    secrets: secretsOf(row.kind, config),
  };
}

/**
 * The origin (scheme://host[:port]) the workspace's webhook connection is bound to — the one sends
 * use (the newest WEBHOOK credential) — or undefined when it has none or it names no URL (then it
 * carries no headers, and steps may call any address).
 */
export async function webhookOriginOf(
  db: Database,
  keyring: Keyring,
  workspaceId: string,
): Promise<string | undefined> {
  const cred = await readCredential(db, keyring, { workspaceId, kind: "WEBHOOK" });
  const url = cred?.config.url;
  if (typeof url !== "string") return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export function providerForCredential(
  cred: DecryptedCredential,
  deps?: ProviderDependencies,
): Provider {
  return createProvider(CHANNEL_OF_KIND[cred.kind], cred.config, deps);
}

/**
 * Re-wraps every data key not already under the keyring's current master key (after a master
 * key rotation). Ciphertexts are untouched. Returns how many rows changed.
 */
export async function rewrapAll(
  db: Database,
  keyring: Keyring,
): Promise<{ rewrapped: number; total: number }> {
  const rows = await db.prisma.channelCredential.findMany({
    select: { id: true, wrappedKey: true, masterKeyId: true },
  });
  let rewrapped = 0;
  for (const row of rows) {
    if (row.masterKeyId === keyring.current.id) continue;
    const dataKey = unwrapKey(keyring, row.wrappedKey, row.masterKeyId);
    const wrapped = wrapKey(keyring, dataKey);
    dataKey.fill(0);
    // Guarded on the old key id so a concurrent rotation of the same row is not overwritten.
    rewrapped += await db.prisma.$executeRaw`
      UPDATE "ChannelCredential" SET "wrappedKey" = decode(${b64(wrapped.wrappedKey)}, 'base64'), "masterKeyId" = ${wrapped.masterKeyId}
      WHERE id = ${row.id} AND "masterKeyId" = ${row.masterKeyId}`;
  }
  return { rewrapped, total: rows.length };
}
