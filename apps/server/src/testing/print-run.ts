// Print-run fixtures (issue 14): PURLs of a journey's step in volume, as the engine stores them
// (customer → JourneyRun → Message of the step → Purl keyed by that message), in a few
// generate_series statements. Used by the print-run tests and bench/print-run.ts.
import type { Database } from "@postpath/db";

export interface PurlFixture {
  workspaceId: string;
  journeyId: string;
  versionId: string;
  stepId: string;
  /** Ids, external ids and tokens are built from it: make it unique per call. */
  prefix: string;
  count: number;
  /** Every customer's attributes get these (jsonb), plus first_name = 'First <n>', last_name = 'Last <n>'. */
  address?: boolean;
}

/** Inserts `count` customers, each with one run of the journey that made one PURL at `stepId`. */
export async function insertPurls(db: Database, f: PurlFixture): Promise<void> {
  const p = f.prefix;
  await db.query(
    `INSERT INTO "Customer" (id, "workspaceId", "externalId", email, attributes, "updatedAt")
     SELECT $1 || '-c' || lpad(g::text, 7, '0'), $2, $1 || '-u' || g, $1 || '-' || g || '@example.com',
            jsonb_build_object('first_name', 'First ' || g, 'last_name', 'Last ' || g)
            || CASE WHEN $4 THEN jsonb_build_object(
                 'address_line1', g || ' Harbour Street', 'address_line2', 'Flat ' || (g % 40),
                 'postal_code', lpad((10000 + g % 89999)::text, 5, '0'), 'city', 'Hamburg',
                 'country', 'DE') ELSE '{}'::jsonb END,
            now()
     FROM generate_series(1, $3::int) AS g`,
    [p, f.workspaceId, f.count, f.address ?? true],
  );
  await db.query(
    `INSERT INTO "JourneyRun" (id, "workspaceId", "journeyId", "versionId", "customerId", "entryNumber",
                               status, "currentStepId", seq, "updatedAt", "endedAt")
     SELECT $1 || '-r' || lpad(g::text, 7, '0'), $2, $3, $4, $1 || '-c' || lpad(g::text, 7, '0'), 1,
            'COMPLETED', NULL, 3, now(), now()
     FROM generate_series(1, $5::int) AS g`,
    [p, f.workspaceId, f.journeyId, f.versionId, f.count],
  );
  // issue 15: with each message its idempotency key (MessageKey), in the same statement, as the
  // engine stores them.
  await db.query(
    `WITH m AS (
       INSERT INTO "Message" (id, "workspaceId", "runId", "stepId", "runSeq", channel, "idempotencyKey",
                              status, output, "customerId")
       SELECT $1 || '-m' || lpad(g::text, 7, '0'), $2, $1 || '-r' || lpad(g::text, 7, '0'), $3, 1, 'purl',
              $1 || '-r' || lpad(g::text, 7, '0') || ':1:' || $3, 'SENT', '{}'::jsonb,
              $1 || '-c' || lpad(g::text, 7, '0')
       FROM generate_series(1, $4::int) AS g
       RETURNING id, "idempotencyKey", "createdAt"
     )
     INSERT INTO "MessageKey" ("idempotencyKey", "messageId", "createdAt")
     SELECT "idempotencyKey", id, "createdAt" FROM m`,
    [p, f.workspaceId, f.stepId, f.count],
  );
  await db.query(
    `INSERT INTO "Purl" (token, "workspaceId", "runId", "customerId", "messageId", page, params)
     SELECT $1 || 't' || lpad(g::text, 7, '0'), $2, $1 || '-r' || lpad(g::text, 7, '0'),
            $1 || '-c' || lpad(g::text, 7, '0'), $1 || '-m' || lpad(g::text, 7, '0'), 'register',
            jsonb_build_object('serial', 'SN' || g)
     FROM generate_series(1, $3::int) AS g`,
    [p, f.workspaceId, f.count],
  );
}
