// Child processes for the benches that start servers: a free local port, and stopping a process
// group (spawned with `detached: true`, so tsx and the node process it runs go together).
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createServer } from "node:net";

/** A TCP port free on 127.0.0.1 at the time of asking. */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** Signals the whole process group of `child`; nothing when it is already gone. */
export function stopGroup(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = "SIGKILL",
): void {
  try {
    if (child?.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Pids in the process group of `child` (tsx and the node process it runs), read from /proc. */
export function groupPids(child: ChildProcess): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === child.pid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * SIGTERM to the node process(es) a tsx child runs (tsx exits with them), or to the group when
 * there are none: signalled as a group, tsx's own exit ended the server before it could write its
 * `--cpu-prof` profile.
 */
export function terminate(child: ChildProcess): void {
  const inner = groupPids(child).filter((pid) => pid !== child.pid);
  for (const pid of inner) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  if (inner.length === 0) stopGroup(child, "SIGTERM");
}
