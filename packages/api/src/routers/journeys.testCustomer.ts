// issue 16: the journey editor's test run with a real customer. The canvas runs the journey in the
// simulator (packages/journey, the same `advance` the engine runs, nothing sent); this gives it the
// customer as the engine sees them — attributes, tags, and the saved segments they are in and
// their lifecycle stage, read from the membership table as the engine does before a split or a
// coupon rule that reads them (engine memberships.ts) — so a test run's path matches a live run's.
import { segmentsOfCustomer, toSnapshot } from "@postpath/engine";
import type { CustomerSnapshot } from "@postpath/journey";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { ApiContext } from "../trpc.ts";
import { Text } from "../zod.ts";

export const TestCustomerInput = z.object({
  /** The customer's id in the marketer's systems, or their email address. */
  customer: Text.trim()
    .min(1, { error: "customer: type the customer's id or email." })
    .max(500, { error: "customer: at most 500 characters." }),
});
export type TestCustomerInput = z.infer<typeof TestCustomerInput>;

export interface TestCustomer {
  /** What the simulator runs: the engine's snapshot with `segments` (ids) and `lifecycleStage`. */
  customer: CustomerSnapshot;
  /** The segments they are in, by name, for the panel to show (lifecycle stages left out). */
  segmentNames: string[];
}

type Ctx = ApiContext & { user: NonNullable<ApiContext["user"]> };

export async function testCustomer({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: TestCustomerInput;
}): Promise<TestCustomer> {
  const ws = ctx.user.workspaceId;
  const select = {
    id: true,
    externalId: true,
    email: true,
    phone: true,
    timezone: true,
    attributes: true,
    tags: true,
  } as const;
  // The id first (exact), then the email (as stored, then case-insensitively).
  const row =
    (await ctx.db.prisma.customer.findFirst({
      where: { workspaceId: ws, externalId: input.customer },
      select,
    })) ??
    (input.customer.includes("@")
      ? await ctx.db.prisma.customer.findFirst({
          where: {
            workspaceId: ws,
            email: { equals: input.customer, mode: "insensitive" },
          },
          orderBy: { updatedAt: "desc" },
          select,
        })
      : null);
  if (!row)
    throw new TRPCError({
      code: "NOT_FOUND",
      message: `customer: no customer with the id or email “${input.customer}” in this workspace.`,
    });
  const m = await segmentsOfCustomer(ctx.engine, ws, row.id);
  return {
    customer: {
      ...toSnapshot(row),
      segments: m.segments.map((s) => s.id).sort(),
      lifecycleStage: m.stage,
    },
    segmentNames: m.segments.filter((s) => s.kind !== "lifecycle").map((s) => s.name),
  };
}
