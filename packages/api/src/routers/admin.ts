import {
  dismissMessage,
  listDeadLetters,
  OperateError,
  QUEUES,
  replayMessage,
} from "@postpath/engine";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import { adminProcedure, router } from "../trpc.ts";
import { IdText } from "../zod.ts";

const QUEUE_NAMES = Object.values(QUEUES);

export const adminRouter = router({
  /**
   * Waiting / delayed / active / failed counts per queue. Queues are shared by all workspaces of
   * this installation (the counts are not per workspace; no job contents are returned).
   */
  queues: adminProcedure.query(async ({ ctx }) => {
    const queues = ctx.engine.queues;
    return Promise.all(
      QUEUE_NAMES.map(async (name) => {
        const c = await queues[name].getJobCounts(
          "waiting",
          "delayed",
          "active",
          "failed",
          "completed",
          "prioritized",
        );
        return {
          name,
          waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
          delayed: c.delayed ?? 0,
          active: c.active ?? 0,
          failed: c.failed ?? 0,
          completed: c.completed ?? 0,
        };
      }),
    );
  }),

  /**
   * Messages that gave up (DEAD), were refused for good (FAILED) or whose delivery is unknown
   * (UNCERTAIN, not sent again), newest first, dismissed ones left out; `cursor` pages.
   */
  deadLetters: adminProcedure
    .input(
      z
        .object({
          limit: z.number().int().min(1).max(200).default(50),
          cursor: IdText("cursor").nullish(),
        })
        .default({ limit: 50 }),
    )
    .query(({ ctx, input }) =>
      listDeadLetters(ctx.engine, {
        workspaceId: ctx.user.workspaceId,
        limit: input.limit,
        cursor: input.cursor ?? null,
        includeFailed: true,
      }),
    ),

  /**
   * Sends a dead, failed or uncertain message again with the same idempotency key (the run is not
   * rewound): as it was rendered (`stored`) or rendered again from the step as the journey has it
   * now (`current`); unset: stored when there is a rendered message. The earlier outcome is kept
   * in the message's history.
   */
  replay: adminProcedure
    .input(z.object({ id: IdText(), render: z.enum(["stored", "current"]).optional() }))
    .mutation(async ({ ctx, input }) => {
      let render: string;
      try {
        ({ render } = await replayMessage(ctx.engine, input.id, {
          workspaceId: ctx.user.workspaceId,
          actorId: ctx.user.id,
          ...(input.render ? { render: input.render } : {}),
        }));
      } catch (err) {
        if (err instanceof OperateError)
          throw new TRPCError({ code: err.code, message: err.message });
        throw err;
      }
      await recordAudit(
        ctx.db,
        ctx.user,
        "message.replay",
        { type: "Message", id: input.id },
        { render },
      );
      return { ok: true };
    }),

  /** Takes a dead, failed or uncertain message off the list (nothing sent; kept in its history). */
  dismiss: adminProcedure.input(z.object({ id: IdText() })).mutation(async ({ ctx, input }) => {
    try {
      await dismissMessage(ctx.engine, input.id, {
        workspaceId: ctx.user.workspaceId,
        actorId: ctx.user.id,
      });
    } catch (err) {
      if (err instanceof OperateError)
        throw new TRPCError({ code: err.code, message: err.message });
      throw err;
    }
    await recordAudit(ctx.db, ctx.user, "message.dismiss", { type: "Message", id: input.id });
    return { ok: true };
  }),
});
