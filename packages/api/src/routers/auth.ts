import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createSession, deleteSession, hashPassword, verifyPassword } from "../auth.ts";
import { publicProcedure, router } from "../trpc.ts";

// Verifying against this when the user does not exist keeps wrong-user and wrong-password
// indistinguishable by timing as well as by message.
const dummyHash = hashPassword("postpath-timing-equaliser");

export const authRouter = router({
  signIn: publicProcedure
    .input(z.object({ email: z.email("Enter a valid email address").transform((e) => e.toLowerCase()), password: z.string().min(1, "Enter your password") }))
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.db.prisma.user.findUnique({
        where: { email: input.email },
        select: { id: true, email: true, name: true, role: true, passwordHash: true },
      });
      const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash), input.password);
      if (!user || !user.passwordHash || !ok) {
        throw new TRPCError({ code: "UNAUTHORIZED", message: "Email or password is incorrect." });
      }
      const session = await createSession(ctx.db, user.id);
      ctx.session.set(session.token, session.expiresAt);
      return { user: { id: user.id, email: user.email, name: user.name, role: user.role } };
    }),

  signOut: publicProcedure.mutation(async ({ ctx }) => {
    if (ctx.session.token) await deleteSession(ctx.db, ctx.session.token);
    ctx.session.clear();
    return { ok: true };
  }),

  me: publicProcedure.query(async ({ ctx }) => {
    if (!ctx.user) return null;
    const ws = await ctx.db.prisma.workspace.findUniqueOrThrow({ where: { id: ctx.user.workspaceId }, select: { id: true, name: true } });
    return { id: ctx.user.id, email: ctx.user.email, name: ctx.user.name, role: ctx.user.role, workspace: ws };
  }),
});
