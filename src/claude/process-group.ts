import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

/**
 * Claude runs in its own process group (spawned `detached`), so one signal to `-pgid`
 * reaches the CLI and everything it started: Bash tool commands, test runners, dev servers.
 * Killing only the CLI's pid would leave those running in a worktree that is about to be
 * removed. (A process that calls setsid() itself escapes any group kill.)
 */

/** Sends `signal` to every process in the group. False when the group no longer exists. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: nobody left (EPERM cannot happen for our own children)
  }
}

/**
 * Whether any process of the group is still running. Zombies do not count: where PID 1
 * does not reap orphans (containers without an init, some sandboxes) a killed grandchild
 * stays a zombie forever, and `kill(-pgid, 0)` would report the group alive.
 */
export function isProcessGroupAlive(pgid: number): boolean {
  if (!signalProcessGroup(pgid, 0)) return false;
  if (process.platform !== "linux") return true;
  try {
    return readdirSync("/proc").some((entry) => /^\d+$/.test(entry) && isLiveMember(entry, pgid));
  } catch {
    return true;
  }
}

function isLiveMember(pid: string, pgid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(group) === pgid && state !== "Z";
  } catch {
    return false; // exited while we looked
  }
}

/** SIGTERM to the group, then SIGKILL to whatever still runs after `graceMs`. Resolves once the group is gone. */
export async function terminateProcessGroup(pgid: number, graceMs: number): Promise<void> {
  if (!isProcessGroupAlive(pgid)) return;
  signalProcessGroup(pgid, "SIGTERM");
  if (await waitForGroupExit(pgid, graceMs)) return;
  signalProcessGroup(pgid, "SIGKILL");
  await waitForGroupExit(pgid, 1_000);
}

async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await delay(50);
    if (!isProcessGroupAlive(pgid)) return true;
  }
  return !isProcessGroupAlive(pgid);
}
