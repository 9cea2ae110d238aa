import type { Provider } from "@postpath/channels";
import type { Database } from "@postpath/db";
import type { EmailRequest } from "@postpath/channels";
import type { ProviderResolver } from "../providers.ts";
import type { Keyring } from "./keyring.ts";
import { kindOfChannel, providerForCredential, readCredential } from "./store.ts";

export interface CredentialResolver extends ProviderResolver {
  /** Closes cached providers (pooled SMTP connections). */
  close(): Promise<void>;
}

/**
 * Resolves a workspace's provider from its newest channel credential, decrypted at send time in
 * the worker (job payloads carry message ids only); without one, asks `fallback` (process-wide
 * providers from the environment). Providers are cached per credential version.
 */
export function credentialProviders(
  db: Database,
  keyring: Keyring,
  fallback: ProviderResolver,
): CredentialResolver {
  // Keyed on the sealed config's IV, which changes exactly when the config is re-sealed (create,
  // rotate) — not on updatedAt, which any update bumps (a label, a test, once a usage stamp: issue
  // 13, where rebuilding the SMTP transport closed its pool under queued sends).
  const cache = new Map<string, { version: string; provider: Provider }>();
  const lastTouched = new Map<string, number>();

  async function resolve(workspaceId: string, channel: string): Promise<Provider> {
    const kind = kindOfChannel(channel);
    if (!kind) return fallback(workspaceId, channel);
    const head = await db.prisma.channelCredential.findFirst({
      where: { workspaceId, kind },
      orderBy: { createdAt: "desc" },
      select: { id: true, iv: true },
    });
    if (!head) return fallback(workspaceId, channel);
    touch(head.id);
    const version = Buffer.from(head.iv).toString("base64");
    const cached = cache.get(head.id);
    if (cached && cached.version === version) return cached.provider;
    const cred = await readCredential(db, keyring, { workspaceId, id: head.id });
    if (!cred) return fallback(workspaceId, channel);
    let email: Provider<EmailRequest> | undefined;
    if (kind === "SLACK")
      email = await resolve(workspaceId, "email").catch<undefined>(() => undefined);
    const provider = providerForCredential(cred, email ? { email } : {});
    await cached?.provider.close?.();
    cache.set(head.id, { version, provider });
    return provider;
  }

  // lastUsedAt, at most once a minute per credential per process. In SQL, so the usage stamp
  // leaves updatedAt (Prisma's @updatedAt: "last changed", shown to admins) alone.
  function touch(id: string) {
    const now = Date.now();
    if ((lastTouched.get(id) ?? 0) > now - 60_000) return;
    lastTouched.set(id, now);
    void db.prisma
      .$executeRaw`UPDATE "ChannelCredential" SET "lastUsedAt" = ${new Date(now)} WHERE id = ${id}`.catch(
      () => undefined,
    );
  }

  return Object.assign(resolve, {
    async close() {
      await Promise.all([...cache.values()].map((c) => c.provider.close?.() ?? Promise.resolve()));
      cache.clear();
    },
  });
}
