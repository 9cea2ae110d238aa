// Issue 15: "Message" has no foreign key to "JourneyRun" any more
// (20261206040000_message_no_foreign_keys). Its ON DELETE CASCADE used to delete, with the
// customer's runs, a message a run transition committed while the erasure was under way (the
// cascade's own statement saw it). The erasure now locks the customer's runs before it deletes
// their messages and keys: the transition in flight commits first and its message is erased too.
// Real Postgres.
import { waitFor } from "@postpath/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, type ApiTestEnv } from "../testing.ts";

describe("erasure deletes a customer's messages and their keys (no cascade from runs)", () => {
  let env: ApiTestEnv<"admin">;
  beforeAll(async () => {
    env = await openApiTestEnv([["admin", "ws-a", "ADMIN"]], { prefix: "erasemsg" });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("a message a run transition commits while the erasure runs is erased with its key", async () => {
    const prisma = env.db.prisma;
    const workspaceId = env.users.admin.workspaceId;
    const c = await prisma.customer.create({ data: { workspaceId, externalId: "erin" } });
    const run = await prisma.journeyRun.create({
      data: {
        workspaceId,
        journeyId: "j-1",
        versionId: "v-1",
        customerId: c.id,
        entryNumber: 1,
        currentStepId: "m1",
        seq: 1,
      },
    });
    const message = (id: string, at: Date) => ({
      id,
      workspaceId,
      runId: run.id,
      customerId: c.id,
      stepId: id,
      runSeq: 1,
      channel: "email",
      idempotencyKey: `key-${id}`,
      createdAt: at,
    });
    const first = message("m1", new Date());
    await prisma.messageKey.create({
      data: {
        idempotencyKey: first.idempotencyKey,
        messageId: first.id,
        createdAt: first.createdAt,
      },
    });
    await prisma.message.create({ data: first });

    // A run transition in flight: the run updated (its row locked) and its next message and key
    // written in the same transaction, not committed yet (store.ts commitBatch does it in one
    // statement).
    let commit!: () => void;
    const committing = new Promise<void>((r) => (commit = r));
    let written!: () => void;
    const isWritten = new Promise<void>((r) => (written = r));
    const second = message("m2", new Date());
    const transition = prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`UPDATE "JourneyRun" SET seq = seq + 1 WHERE id = ${run.id}`;
        await tx.messageKey.create({
          data: {
            idempotencyKey: second.idempotencyKey,
            messageId: second.id,
            createdAt: second.createdAt,
          },
        });
        await tx.message.create({ data: second });
        written();
        await committing;
      },
      { timeout: 60_000 },
    );
    await Promise.race([isWritten, transition]);

    const erase = createCaller(env.ctxFor(env.users.admin)).customers.erase({
      id: c.id,
      confirmExternalId: "erin",
    });
    // The erasure reaches the run the transition holds and waits for it; then the transition commits.
    await waitFor("the erasure waits for the run transition", async () => {
      const rows = await env.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'`,
      );
      return (rows[0]?.n ?? 0) > 0;
    });
    commit();
    await transition;
    const result = await erase;
    expect(result.erased).toBe(true);

    expect(await prisma.message.findMany({ where: { runId: run.id } })).toEqual([]);
    expect(await prisma.message.findMany({ where: { customerId: c.id } })).toEqual([]);
    expect(
      await prisma.messageKey.findMany({
        where: { idempotencyKey: { in: [first.idempotencyKey, second.idempotencyKey] } },
      }),
    ).toEqual([]);
    expect(await prisma.journeyRun.findMany({ where: { customerId: c.id } })).toEqual([]);
    expect(result.counts.messages).toBe(2);
  });
});
