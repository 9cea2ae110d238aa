// Transient conflicts between statements in flight: Postgres aborted one for a deadlock (40P01)
// or a serialization failure (40001), and running it again may well succeed.
const CONFLICTS = new Set(["40001", "40P01"]);

/** Whether `err` is a statement Postgres aborted for a deadlock or a serialization failure. */
export function transientConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && CONFLICTS.has(code);
}

/**
 * Runs `statement`, and again after a transient conflict, up to `attempts` times in all; with
 * `pauseMs`, after a short random pause (that many ms times the attempt, plus up to 40). Any other
 * error, or the last attempt's, is thrown.
 */
export async function retriedOnConflict<T>(
  statement: () => Promise<T>,
  attempts: number,
  pauseMs = 0,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await statement();
    } catch (err) {
      if (attempt >= attempts || !transientConflict(err)) throw err;
      if (pauseMs > 0)
        await new Promise((r) => setTimeout(r, pauseMs * attempt + Math.random() * 40));
    }
  }
}
