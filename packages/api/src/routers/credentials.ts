import {
  CredentialConfigError,
  createCredential,
  credentialPublicSelect,
  deliveryReportPaths,
  readCredential,
  rotateCredential,
  testCredential,
  type Keyring,
} from "@postpath/engine";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { adminProcedure, marketerProcedure, router } from "../trpc.ts";
import { IdText, Text } from "../zod.ts";

const Kind = z.enum(["SMTP", "SMS", "PUSH", "WEBHOOK", "SLACK"]);
const Label = Text.trim().min(1, "Give the credential a label").max(100);
/** Checked per kind by the channel's own schema (errors name fields, never values). */
const Config = z.record(Text, z.unknown());

const notFound = () =>
  new TRPCError({ code: "NOT_FOUND", message: "No such credential in this workspace." });

function requireKeyring(keyring: Keyring | undefined): Keyring {
  if (!keyring)
    throw new TRPCError({
      code: "PRECONDITION_FAILED",
      message: "No master key is configured (POSTPATH_MASTER_KEY or POSTPATH_MASTER_KEY_FILE).",
    });
  return keyring;
}

function badConfig(err: unknown): never {
  if (err instanceof CredentialConfigError)
    throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
  throw err;
}

/**
 * Channel credentials are write-only: responses carry kind, label, last 4 characters and usage
 * times. Marketers may list them (to pick a channel), only admins change or test them.
 */
export const credentialsRouter = router({
  list: marketerProcedure.query(({ ctx }) =>
    ctx.db.prisma.channelCredential.findMany({
      where: { workspaceId: ctx.user.workspaceId },
      select: credentialPublicSelect,
      orderBy: [{ kind: "asc" }, { createdAt: "desc" }],
    }),
  ),

  /**
   * issue 17: where the providers send delivery reports (the addresses to paste into Twilio and
   * SendGrid) and whether the workspace's credentials can verify them. Only yes/no about the
   * credentials, never a value from them.
   */
  deliveryReports: adminProcedure.query(async ({ ctx }) => {
    const base = ctx.engine.publicUrl.replace(/\/+$/, "");
    const paths = deliveryReportPaths(ctx.user.workspaceId);
    const workspaceId = ctx.user.workspaceId;
    const [sms, email] = ctx.keyring
      ? await Promise.all([
          readCredential(ctx.db, ctx.keyring, { workspaceId, kind: "SMS" }),
          readCredential(ctx.db, ctx.keyring, { workspaceId, kind: "SMTP" }),
        ])
      : [null, null];
    const smsUrl = `${base}${paths.sms}`;
    return {
      sms: {
        url: smsUrl,
        /** An SMS credential exists (its auth token verifies Twilio's signature). */
        credential: sms !== null,
        /** Its messages ask Twilio to report to this address. */
        requested: sms?.config.statusCallbackUrl === smsUrl,
      },
      email: {
        url: `${base}${paths.email}`,
        credential: email !== null,
        /** The SMTP credential holds SendGrid's verification key. */
        verificationKey: typeof email?.config.eventWebhookPublicKey === "string",
      },
    };
  }),

  create: adminProcedure
    .input(z.object({ kind: Kind, label: Label, config: Config }))
    .mutation(async ({ ctx, input }) => {
      const row = await createCredential(ctx.db, requireKeyring(ctx.keyring), {
        workspaceId: ctx.user.workspaceId,
        ...input,
      }).catch(badConfig);
      await recordAudit(
        ctx.db,
        ctx.user,
        "credential.create",
        { type: "ChannelCredential", id: row.id },
        { kind: row.kind, label: row.label },
      );
      return row;
    }),

  /** Replaces the secret configuration (rotating the provider's secret); the label may change too. */
  rotate: adminProcedure
    .input(z.object({ id: IdText(), config: Config, label: Label.optional() }))
    .mutation(async ({ ctx, input }) => {
      const row = await rotateCredential(ctx.db, requireKeyring(ctx.keyring), {
        workspaceId: ctx.user.workspaceId,
        ...input,
      }).catch(badConfig);
      if (!row) throw notFound();
      await recordAudit(
        ctx.db,
        ctx.user,
        "credential.rotate",
        { type: "ChannelCredential", id: row.id },
        { kind: row.kind, label: row.label },
      );
      return row;
    }),

  rename: adminProcedure
    .input(z.object({ id: IdText(), label: Label }))
    .mutation(async ({ ctx, input }) => {
      const res = await ctx.db.prisma.channelCredential.updateMany({
        where: { id: input.id, workspaceId: ctx.user.workspaceId },
        data: { label: input.label },
      });
      if (res.count === 0) throw notFound();
      await recordAudit(
        ctx.db,
        ctx.user,
        "credential.update",
        { type: "ChannelCredential", id: input.id },
        { label: input.label },
      );
      return { ok: true };
    }),

  remove: adminProcedure.input(z.object({ id: IdText() })).mutation(async ({ ctx, input }) => {
    const row = await ctx.db.prisma.channelCredential.findFirst({
      where: { id: input.id, workspaceId: ctx.user.workspaceId },
      select: { id: true, kind: true, label: true },
    });
    if (!row) throw notFound();
    await ctx.db.prisma.channelCredential.delete({ where: { id: row.id } });
    await recordAudit(
      ctx.db,
      ctx.user,
      "credential.delete",
      { type: "ChannelCredential", id: row.id },
      { kind: row.kind, label: row.label },
    );
    return { ok: true };
  }),

  /** Checks the credential against its provider: a test message to `to`, else the provider's verification. */
  test: adminProcedure
    .input(z.object({ id: IdText(), to: Text.trim().min(1).max(320).optional() }))
    .mutation(async ({ ctx, input }) => {
      const result = await testCredential(ctx.db, requireKeyring(ctx.keyring), {
        workspaceId: ctx.user.workspaceId,
        id: input.id,
        to: input.to,
        outbound: ctx.engine.outbound,
      });
      if (!result) throw notFound();
      await recordAudit(
        ctx.db,
        ctx.user,
        "credential.test",
        { type: "ChannelCredential", id: input.id },
        { ok: result.ok },
      );
      return result;
    }),
});
