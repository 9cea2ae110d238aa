// issue 16: consent and subscriptions. Read a customer's state per channel with its history
// (viewers), change it (marketers: what a customer asked for by phone or email, recorded with
// who did it), and manage the workspace's suppression list (admins). Every change is audited.
import {
  CONSENT_CHANNELS,
  SUPPRESSION_REASONS,
  SUBSCRIPTION_STATUSES,
  addSuppression,
  consentOf,
  removeSuppression,
  setSubscription,
  smsInboundPath,
  suppressionAddress,
} from "@postpath/engine";
import type { Database } from "@postpath/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { adminProcedure, marketerProcedure, router, viewerProcedure } from "../trpc.ts";
import { IdText, Text } from "../zod.ts";

const Channel = z.enum(CONSENT_CHANNELS, { error: "channel: one of email, sms, push." });

/** A customer by our id or by the id the workspace's own systems use (Segment's userId). */
const CustomerRef = z
  .object({
    customerId: IdText("customerId").optional(),
    externalId: Text.min(1).max(200).optional(),
  })
  .refine((r) => (r.customerId === undefined) !== (r.externalId === undefined), {
    message: "Give either customerId or externalId.",
    path: ["customerId"],
  });

async function resolveCustomer(
  prisma: Database["prisma"],
  workspaceId: string,
  ref: z.infer<typeof CustomerRef>,
): Promise<string> {
  const c = await prisma.customer.findFirst({
    where: {
      workspaceId,
      ...(ref.customerId ? { id: ref.customerId } : { externalId: ref.externalId ?? "" }),
    },
    select: { id: true },
  });
  if (!c)
    throw new TRPCError({
      code: "NOT_FOUND",
      message: "No customer with that id in this workspace.",
    });
  return c.id;
}

export const consentRouter = router({
  /** A customer's subscription per channel (subscribed, unsubscribed, never asked) and history. */
  get: viewerProcedure.input(CustomerRef).query(async ({ ctx, input }) => {
    const customerId = await resolveCustomer(ctx.db.prisma, ctx.user.workspaceId, input);
    const consent = await consentOf(ctx.engine, ctx.user.workspaceId, customerId);
    if (!consent)
      throw new TRPCError({
        code: "NOT_FOUND",
        message: "No customer with that id in this workspace.",
      });
    return { customerId, ...consent };
  }),

  /** Records a customer's choice for one channel, as a team member (source "admin"). */
  set: marketerProcedure
    .input(
      z.intersection(
        CustomerRef,
        z.object({
          channel: Channel,
          status: z.enum(SUBSCRIPTION_STATUSES, { error: "status: subscribed or unsubscribed." }),
          /** Why, in the team member's words ("asked by phone"). */
          note: Text.max(500).optional(),
        }),
      ),
    )
    .mutation(async ({ ctx, input }) => {
      const customerId = await resolveCustomer(ctx.db.prisma, ctx.user.workspaceId, input);
      const r = await setSubscription(ctx.engine, {
        workspaceId: ctx.user.workspaceId,
        customerId,
        channel: input.channel,
        status: input.status,
        source: "admin",
        actor: ctx.user.id,
        detail: { by: ctx.user.email, ...(input.note ? { note: input.note } : {}) },
      });
      if (!r.found)
        throw new TRPCError({
          code: "NOT_FOUND",
          message: "No customer with that id in this workspace.",
        });
      if (r.changed)
        await recordAudit(
          ctx.db,
          ctx.user,
          "consent.set",
          { type: "Customer", id: customerId },
          { channel: input.channel, status: input.status, previous: r.previous },
        );
      return {
        customerId,
        channel: input.channel,
        status: input.status,
        changed: r.changed,
        previous: r.previous,
      };
    }),

  /** The workspace's suppression list, newest first (at most 500; filter by address). */
  suppressions: viewerProcedure
    .input(z.object({ channel: Channel.optional(), address: Text.max(320).optional() }).optional())
    .query(async ({ ctx, input }) => {
      const rows = await ctx.db.prisma.suppression.findMany({
        where: {
          workspaceId: ctx.user.workspaceId,
          ...(input?.channel ? { channel: input.channel } : {}),
          ...(input?.address ? { address: { contains: input.address.trim().toLowerCase() } } : {}),
        },
        orderBy: { createdAt: "desc" },
        take: 500,
        select: {
          id: true,
          channel: true,
          address: true,
          reason: true,
          note: true,
          createdAt: true,
          createdBy: true,
        },
      });
      return rows;
    }),

  /** Adds an address: no marketing message on that channel goes to it, in any journey. */
  suppress: adminProcedure
    .input(
      z.object({
        channel: Channel,
        address: Text.trim().min(3, "address: an email address or phone number.").max(320),
        reason: z
          .enum(SUPPRESSION_REASONS, { error: "reason: bounce, complaint or manual." })
          .default("manual"),
        note: Text.max(500).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (input.channel === "email" && !/^[^\s@]+@[^\s@]+$/.test(input.address))
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: "address: an email address (name@example.com).",
        });
      if (input.channel === "sms" && !/^\+?[0-9 ().-]{3,32}$/.test(input.address))
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: "address: a phone number (+447700900123).",
        });
      const r = await addSuppression(ctx.engine, {
        workspaceId: ctx.user.workspaceId,
        channel: input.channel,
        address: input.address,
        reason: input.reason,
        note: input.note ?? null,
        createdBy: ctx.user.id,
      });
      if (r.created)
        await recordAudit(
          ctx.db,
          ctx.user,
          "consent.suppress",
          { type: "Suppression", id: r.id },
          { channel: input.channel, reason: input.reason },
        );
      return {
        id: r.id,
        created: r.created,
        address: suppressionAddress(input.channel, input.address),
      };
    }),

  /** Lifts an address from the suppression list. */
  unsuppress: adminProcedure
    .input(z.object({ channel: Channel, address: Text.trim().min(1).max(320) }))
    .mutation(async ({ ctx, input }) => {
      // The address itself stays out of the audit log (it is personal data).
      const removed = await removeSuppression(
        ctx.engine,
        ctx.user.workspaceId,
        input.channel,
        input.address,
      );
      if (!removed)
        throw new TRPCError({
          code: "NOT_FOUND",
          message: "That address is not on the suppression list.",
        });
      await recordAudit(
        ctx.db,
        ctx.user,
        "consent.unsuppress",
        { type: "Suppression", id: null },
        { channel: input.channel },
      );
      return { removed };
    }),

  /**
   * Where to point the SMS provider's inbound messages (STOP / START). With an SMS credential the
   * provider's signature is checked (Twilio's X-Twilio-Signature, the credential's auth token) at
   * /sms/inbound/<workspace>; without one, the keyed address is the only way in.
   */
  smsInbound: adminProcedure.query(async ({ ctx }) => {
    const base = ctx.engine.publicUrl.replace(/\/+$/, "");
    const credential = await ctx.db.prisma.channelCredential.findFirst({
      where: { workspaceId: ctx.user.workspaceId, kind: "SMS" },
      select: { id: true },
    });
    return credential
      ? { url: `${base}/sms/inbound/${ctx.user.workspaceId}`, verifiedBy: "signature" as const }
      : {
          url: `${base}${smsInboundPath(ctx.engine, ctx.user.workspaceId)}`,
          verifiedBy: "key" as const,
        };
  }),
});
