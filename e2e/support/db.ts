// Reads what the server seeded, so specs assert against the real data rather than a copy of it.
import pg from "pg";

export interface SeededJourney {
  id: string;
  nodes: { id: string; type: string; data: Record<string, unknown> }[];
  edges: { id: string; source: string; target: string }[];
}

export async function seededJourney(name: string): Promise<SeededJourney> {
  const url = process.env.E2E_DATABASE_URL;
  if (!url)
    throw new Error(
      "E2E_DATABASE_URL is not set: run the specs through playwright.config.ts (global-setup.ts)",
    );
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ id: string; draft: Omit<SeededJourney, "id"> }>(
      `SELECT id, draft FROM "Journey" WHERE name = $1`,
      [name],
    );
    const row = result.rows[0];
    if (!row) throw new Error(`No journey named ${JSON.stringify(name)} was seeded`);
    return { id: row.id, nodes: row.draft.nodes, edges: row.draft.edges };
  } finally {
    await client.end();
  }
}
