import type { Provider } from "@postpath/channels";

/** Finds the provider that delivers a workspace's messages on a channel (decrypting credentials at send time). */
export type ProviderResolver = (workspaceId: string, channel: string) => Promise<Provider>;

export class NoProviderError extends Error {
  constructor(channel: string) {
    super(
      `No ${channel} provider is configured for this workspace. An admin can add one under Channels.`,
    );
    this.name = "NoProviderError";
  }
}

/** A resolver over a fixed map of providers (process-wide configuration, e.g. SMTP_URL). */
export function staticProviders(map: Partial<Record<string, Provider>>): ProviderResolver {
  return (_workspaceId, channel) => {
    const p = map[channel];
    return p ? Promise.resolve(p) : Promise.reject(new NoProviderError(channel));
  };
}
