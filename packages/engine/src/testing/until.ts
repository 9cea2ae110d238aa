// Waiting in tests that follows progress, not wall time (issue 13): a wait fails only when what it
// watches has stopped moving for a long while, so a busy machine slows a test down but does not
// fail it.

/**
 * Polls `check` every 100 ms until it returns something truthy. Fails naming `what` only when
 * `progress()` (compared as JSON: a count, a status list…) has not changed for `stallMs`.
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  progress: () => Promise<unknown> = () => Promise.resolve(null),
  stallMs = 60_000,
): Promise<T> {
  let last = JSON.stringify(await progress());
  let movedAt = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    const now = JSON.stringify(await progress());
    if (now !== last) {
      last = now;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > stallMs) {
      throw new Error(
        `stalled waiting for ${what} (no progress for ${stallMs / 1000} s; at ${now})`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
