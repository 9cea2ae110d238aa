// issue 12: creating a workspace. An instance owner (a user flagged `instanceOwner`, e.g. the
// first admin, or one listed in INSTANCE_OWNER_EMAILS) creates it with an invite link for its
// first admin; with ALLOW_SIGNUP, anyone may create one by signing up (auth.signUp).
import { randomBytes } from "node:crypto";
import type { Prisma } from "@postpath/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { newToken } from "../auth.ts";
import { viewerProcedure, router, type ApiContext, type SessionUser } from "../trpc.ts";
import { INVITE_TTL_MS } from "./invites.ts";

export const WorkspaceName = z
  .string()
  .trim()
  .min(1, "Name the workspace")
  .max(100, "Use at most 100 characters for the workspace name");

/** May this signed-in user create workspaces? */
export async function isInstanceOwner(ctx: ApiContext, user: SessionUser): Promise<boolean> {
  if (ctx.accounts?.instanceOwnerEmails.includes(user.email.toLowerCase())) return true;
  const row = await ctx.db.prisma.user.findUnique({
    where: { id: user.id },
    select: { instanceOwner: true },
  });
  return row?.instanceOwner ?? false;
}

/** A new workspace with a slug made from its name (a random suffix when the name is taken). */
export async function createWorkspaceRow(
  tx: Prisma.TransactionClient,
  name: string,
): Promise<{ id: string; name: string; slug: string }> {
  const base =
    name
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "workspace";
  const taken = await tx.workspace.findUnique({ where: { slug: base }, select: { id: true } });
  const slug = taken ? `${base}-${randomBytes(3).toString("hex")}` : base;
  return tx.workspace.create({
    data: { name, slug },
    select: { id: true, name: true, slug: true },
  });
}

const ownerProcedure = viewerProcedure.use(async ({ ctx, next }) => {
  if (!(await isInstanceOwner(ctx, ctx.user)))
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "Only the owner of this Postpath installation can create workspaces.",
    });
  return next();
});

export const workspacesRouter = router({
  /** Whether the caller may create workspaces (the account page offers it then). */
  canCreate: viewerProcedure.query(({ ctx }) => isInstanceOwner(ctx, ctx.user)),

  /** Creates a workspace and an invite link (shown once) for its first admin. */
  create: ownerProcedure
    .input(
      z.object({
        name: WorkspaceName,
        adminEmail: z.email("Enter a valid email address").transform((e) => e.toLowerCase()),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (
        await ctx.db.prisma.user.findUnique({
          where: { email: input.adminEmail },
          select: { id: true },
        })
      )
        throw new TRPCError({
          code: "CONFLICT",
          message: "Someone already has an account with this email; use another address.",
        });
      const { token, hash } = newToken("inv_");
      const workspace = await ctx.db.prisma.$transaction(async (tx) => {
        const ws = await createWorkspaceRow(tx, input.name);
        const invite = await tx.invite.create({
          data: {
            workspaceId: ws.id,
            email: input.adminEmail,
            role: "ADMIN",
            tokenHash: hash,
            invitedById: ctx.user.id,
            expiresAt: new Date(Date.now() + INVITE_TTL_MS),
          },
          select: { id: true },
        });
        // Recorded in the new workspace, so its admins see how it began.
        await recordAudit(
          { prisma: tx },
          { id: ctx.user.id, workspaceId: ws.id },
          "workspace.create",
          { type: "Workspace", id: ws.id },
          { name: ws.name, adminEmail: input.adminEmail, inviteId: invite.id },
        );
        return ws;
      });
      return { workspace, token, path: `/#/invite/${token}` };
    }),
});
