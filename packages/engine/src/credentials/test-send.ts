// "Test send": checks a stored credential against its provider and reports the provider's answer
// (secrets scrubbed). With `to`, a real test message goes out; without, the provider's own
// verify() (SMTP login, SMS account lookup) is used, or a test call to the configured URL.
import { randomUUID } from "node:crypto";
import {
  isProviderError,
  PUBLIC_ONLY,
  type OutboundPolicy,
  type Provider,
} from "@postpath/channels";
import type { ChannelKind, Database } from "@postpath/db";
import type { Keyring } from "./keyring.ts";
import { providerForCredential, readCredential, scrub } from "./store.ts";

export interface TestSendResult {
  ok: boolean;
  /** What the provider answered, one line, never a secret. */
  detail: string;
  status?: number;
}

function testRequest(
  kind: ChannelKind,
  to: string | undefined,
  idempotencyKey: string,
): Record<string, unknown> | null {
  const text = "Postpath test message: this channel credential works.";
  switch (kind) {
    case "SMTP":
      return to ? { idempotencyKey, to, subject: "Postpath test message", text } : null;
    case "SMS":
      return to ? { idempotencyKey, to, body: text } : null;
    case "PUSH":
      return to ? { idempotencyKey, to, title: "Postpath test", body: text } : null;
    case "WEBHOOK":
      return { idempotencyKey, payload: { type: "postpath.test", text } };
    case "SLACK":
      return { idempotencyKey, text };
  }
}

export async function testCredential(
  db: Database,
  keyring: Keyring,
  input: {
    workspaceId: string;
    id: string;
    to?: string | undefined;
    /** Private hosts the test may reach: the engine's (OUTBOUND_ALLOW_HOSTS), as for real sends. */
    outbound?: OutboundPolicy;
  },
  now = Date.now(),
): Promise<TestSendResult | null> {
  const outbound = input.outbound ?? PUBLIC_ONLY;
  const cred = await readCredential(db, keyring, { workspaceId: input.workspaceId, id: input.id });
  if (!cred) return null;
  let provider: Provider | null = null;
  let result: TestSendResult;
  try {
    provider = providerForCredential(cred);
    const req = testRequest(cred.kind, input.to, `pp-test-${randomUUID()}`);
    if (req) {
      const sent = await provider.send(req as never, { outbound });
      result = {
        ok: true,
        detail: `accepted: ${JSON.stringify(sent.response ?? sent.providerMessageId).slice(0, 400)}`,
      };
    } else if (provider.verify) {
      const v = await provider.verify({ outbound });
      result = { ok: v.ok, detail: v.detail };
    } else {
      result = { ok: false, detail: "give a recipient to send a test message to" };
    }
  } catch (err) {
    result = {
      ok: false,
      detail: err instanceof Error ? err.message : String(err),
      ...(isProviderError(err) && err.status !== undefined ? { status: err.status } : {}),
    };
  } finally {
    await provider?.close?.();
  }
  result.detail = scrub(result.detail, cred.secrets).slice(0, 500);
  await db.prisma.channelCredential.update({
    where: { id: cred.id },
    data: { lastTestedAt: new Date(now), lastTestOk: result.ok, lastTestDetail: result.detail },
  });
  return result;
}
