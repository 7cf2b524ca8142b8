import { rm } from "node:fs/promises";
import { dirname, sep } from "node:path";
import type { Logger } from "../shared/logger.js";
import { git, runGit } from "./git.js";

interface WorktreeEntry {
  path: string;
  /** `refs/heads/<branch>`, absent for a detached or bare entry. */
  branch?: string;
}

/**
 * Clears the way for a worktree at `dir` on `branch`: removes whatever a crashed earlier run
 * left at that path, and any other worktree still holding the branch (one live task per issue,
 * so such a worktree is stale, and git refuses to check one branch out twice).
 * The caller holds the mirror's lock.
 */
export async function clearWorktreeSlot(mirror: string, dir: string, branch: string, log: Logger): Promise<void> {
  // Only worktrees this workspace made for the repository (siblings of `dir`): a worktree
  // someone added by hand elsewhere is theirs, and `add` will then say the branch is in use.
  const ours = `${dirname(dir)}${sep}`;
  const stale = (await listWorktrees(mirror, log)).filter(
    (entry) => entry.path.startsWith(ours) && (entry.path === dir || entry.branch === `refs/heads/${branch}`),
  );
  for (const entry of stale) {
    log.warn({ worktree: entry.path, branch }, "removing a stale worktree left by an earlier run");
    await forceRemove(mirror, entry.path, log);
  }
  // A directory the mirror never registered (a crash between mkdir and registration) blocks `add` too.
  await rm(dir, { recursive: true, force: true });
  await git(["worktree", "prune"], { cwd: mirror, log });
}

/**
 * Registers the worktree and points `branch` at `startSha`, without checking files out: the
 * checkout only touches the worktree's own index and files, so it runs outside the lock and
 * concurrent tasks on a large repository do not queue behind each other's checkouts.
 */
export async function addWorktree(mirror: string, dir: string, branch: string, startSha: string, log: Logger): Promise<void> {
  await git(["worktree", "add", "--quiet", "--no-checkout", "--no-track", "-B", branch, dir, startSha], {
    cwd: mirror,
    log,
    code: "worktree-failed",
  });
}

export async function checkoutWorktree(dir: string, log: Logger): Promise<void> {
  await git(["reset", "--quiet", "--hard", "HEAD"], { cwd: dir, log, code: "worktree-failed" });
}

/** Removes the worktree at `dir` and its registration; a no-op for one already gone. The caller holds the lock. */
export async function removeWorktree(mirror: string, dir: string, log: Logger): Promise<void> {
  await forceRemove(mirror, dir, log);
  await git(["worktree", "prune"], { cwd: mirror, log });
}

async function forceRemove(mirror: string, path: string, log: Logger): Promise<void> {
  // Twice --force: also removes a worktree left locked by a `worktree add` that crashed midway.
  const args = ["worktree", "remove", "--force", "--force", path];
  const first = await runGit(args, { cwd: mirror, log });
  if (first.exitCode === 0) return;
  // Not a worktree (never registered, or its .git file is gone): delete the files, and the
  // registration, if any, now points at a missing directory, which `remove` does handle.
  await rm(path, { recursive: true, force: true });
  await runGit(args, { cwd: mirror, log });
}

async function listWorktrees(mirror: string, log: Logger): Promise<WorktreeEntry[]> {
  const out = await git(["worktree", "list", "--porcelain", "-z"], { cwd: mirror, log });
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | undefined;
  for (const field of out.split("\0")) {
    if (field.startsWith("worktree ")) {
      current = { path: field.slice("worktree ".length) };
      entries.push(current);
    } else if (field.startsWith("branch ") && current) {
      current.branch = field.slice("branch ".length);
    }
  }
  return entries;
}

/** The sha of each of `refs` that exists, in one git call. */
export async function resolveRefs(mirror: string, refs: readonly string[], log: Logger): Promise<Map<string, string>> {
  const out = await git(["for-each-ref", "--format=%(refname) %(objectname)", ...refs], { cwd: mirror, log });
  const found = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [ref, sha] = line.split(" ");
    // for-each-ref also matches refs *under* a pattern (`main/x` for `main`): keep exact names.
    if (ref && sha && refs.includes(ref)) found.set(ref, sha);
  }
  return found;
}
