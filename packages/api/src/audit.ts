import type { Database, Prisma } from "@postpath/db";
import type { SessionUser } from "./trpc.ts";

/** Who did what to which thing, in which workspace. `detail` must never contain secrets. */
export async function recordAudit(
  db: Database | { prisma: Prisma.TransactionClient },
  actor: Pick<SessionUser, "id" | "workspaceId">,
  action: string,
  target: { type: string; id?: string | null },
  detail: Record<string, string | number | boolean | null> = {},
): Promise<void> {
  await db.prisma.auditLog.create({
    data: {
      workspaceId: actor.workspaceId,
      actorId: actor.id,
      action,
      targetType: target.type,
      targetId: target.id ?? null,
      detail,
    },
  });
}
