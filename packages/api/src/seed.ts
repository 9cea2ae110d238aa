import { createHash, randomBytes } from "node:crypto";
import type { Database } from "@postpath/db";
import type { EngineContext } from "@postpath/engine";
import { draftFromSteps, type JourneyDraft } from "@postpath/journey";
import { hashPassword } from "./auth.ts";
import { createCaller } from "./router.ts";

export const DEMO_PASSWORD = "postpath-demo";

export const DEMO_JOURNEY_NAME = "Thank-you after purchase";

/** The foundation's thin slice: purchase → wait → thank-you email. */
export function demoJourneyDraft(waitSeconds = 30): JourneyDraft {
  return draftFromSteps([
    {
      id: "trigger",
      type: "trigger.event",
      data: { event: "purchase", filters: [] },
      next: "wait",
    },
    {
      id: "wait",
      type: "wait.duration",
      data: { amount: waitSeconds, unit: "seconds" },
      next: "email",
    },
    {
      id: "email",
      type: "action.email",
      data: {
        subject: "Thanks {{ first_name }}",
        body: "Thanks {{ first_name }}, your order is on its way.",
        format: "text",
      },
      next: "exit",
    },
    { id: "exit", type: "flow.exit" },
  ]);
}

export interface SeedResult {
  created: boolean;
  workspaceId: string;
  /** Only when created: the ingest write key, shown once. */
  writeKey?: string;
}

/** Creates the demo workspace once: an admin, a marketer, a write key and one live journey. */
export async function seedDemo(db: Database, engine: EngineContext): Promise<SeedResult> {
  const existing = await db.prisma.workspace.findUnique({
    where: { slug: "demo" },
    select: { id: true },
  });
  if (existing) return { created: false, workspaceId: existing.id };
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const writeKey = `pp_${randomBytes(24).toString("base64url")}`;
  const ws = await db.prisma.workspace.create({
    data: {
      name: "Demo Coffee Co.",
      slug: "demo",
      users: {
        create: [
          {
            email: "admin@postpath.local",
            name: "Ada Admin",
            role: "ADMIN",
            passwordHash,
            instanceOwner: true, // issue 12: may create workspaces
          },
          { email: "marketer@postpath.local", name: "Mo Marketer", role: "MARKETER", passwordHash },
        ],
      },
      apiKeys: {
        create: {
          name: "Demo write key",
          prefix: writeKey.slice(0, 8),
          keyHash: createHash("sha256").update(writeKey).digest("hex"),
        },
      },
    },
    include: { users: true },
  });
  const marketer = ws.users.find((u) => u.role === "MARKETER");
  if (!marketer) throw new Error("seed: marketer missing");
  const caller = createCaller({
    db,
    engine,
    user: {
      id: marketer.id,
      email: marketer.email,
      name: marketer.name,
      role: marketer.role,
      workspaceId: ws.id,
    },
    session: { token: null, set: () => undefined, clear: () => undefined },
  });
  const { id } = await caller.journeys.create({
    name: DEMO_JOURNEY_NAME,
    draft: demoJourneyDraft(),
  });
  await caller.journeys.publish({ id });
  return { created: true, workspaceId: ws.id, writeKey };
}
