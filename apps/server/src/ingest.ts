import { createHash } from "node:crypto";
import { IdentifyInput, identify, track, TrackInput } from "@postpath/engine";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { AppOptions } from "./app.ts";

/** Segment-style auth: HTTP Basic with the write key as user name (password empty). */
function writeKeyFrom(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (h?.startsWith("Basic ")) {
    const decoded = Buffer.from(h.slice(6), "base64").toString("utf8");
    const key = decoded.split(":")[0];
    return key || null;
  }
  if (h?.startsWith("Bearer ")) return h.slice(7) || null;
  const body = req.body as { writeKey?: unknown } | undefined;
  return typeof body?.writeKey === "string" ? body.writeKey : null;
}

function fieldErrors(error: z.ZodError) {
  return error.issues.map((i) => ({ field: i.path.map(String).join(".") || "(body)", message: i.message }));
}

export function registerIngest(app: FastifyInstance, opts: AppOptions): void {
  const { db, engine } = opts;

  async function workspaceFor(req: FastifyRequest, reply: FastifyReply): Promise<string | null> {
    const key = writeKeyFrom(req);
    if (!key) {
      await reply.code(401).send({ error: "Missing write key: send it as the Basic auth user name." });
      return null;
    }
    const apiKey = await db.prisma.apiKey.findUnique({
      where: { keyHash: createHash("sha256").update(key).digest("hex") },
      select: { id: true, workspaceId: true, revokedAt: true },
    });
    if (!apiKey || apiKey.revokedAt) {
      await reply.code(401).send({ error: "Unknown or revoked write key." });
      return null;
    }
    return apiKey.workspaceId;
  }

  // Malformed JSON never reaches a handler: answer 400 with a message, store nothing.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) opts.log.error({ err: err.message }, "request failed");
    return reply.code(status).send({ error: status >= 500 ? "Internal error" : err.message });
  });

  app.post("/v1/track", async (req, reply) => {
    const workspaceId = await workspaceFor(req, reply);
    if (!workspaceId) return reply;
    const parsed = TrackInput.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: "Invalid track call", fields: fieldErrors(parsed.error) });
    const res = await track(engine, workspaceId, parsed.data);
    return reply.code(200).send({ success: true, eventId: res.eventId, duplicate: res.duplicate });
  });

  app.post("/v1/identify", async (req, reply) => {
    const workspaceId = await workspaceFor(req, reply);
    if (!workspaceId) return reply;
    const parsed = IdentifyInput.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: "Invalid identify call", fields: fieldErrors(parsed.error) });
    const res = await identify(engine, workspaceId, parsed.data);
    return reply.code(200).send({ success: true, customerId: res.customerId });
  });
}
