import { randomBytes } from "node:crypto";
import { access, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "../shared/logger.js";
import { GitError } from "./errors.js";
import { git, runGit } from "./git.js";
import { FETCH_PROGRAM } from "./git-hardening.js";

export interface GitIdentity {
  name: string;
  email: string;
}

export interface MirrorOptions {
  log: Logger;
  /** Set in the mirror's config when git has none, so commits in worktrees work. */
  identity: GitIdentity;
}

/** Remote branches land in refs/remotes/origin/*, never in refs/heads/*, where worktrees keep their branches. */
const FETCH_REFSPEC = "+refs/heads/*:refs/remotes/origin/*";

// A stalled HTTP transfer aborts after a minute below 1 KB/s; the wall-clock limits catch the
// rest (ssh), so a dead remote cannot hold the mirror lock for every other task on the repo.
const LOW_SPEED = ["-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=60"];
const CLONE_TIMEOUT_MS = 60 * 60_000;
const FETCH_TIMEOUT_MS = 15 * 60_000;

/**
 * Makes `dir` an up-to-date bare mirror of `url`: cloned the first time, fetched every time.
 * The caller holds the mirror's lock.
 */
export async function syncMirror(dir: string, url: string, options: MirrorOptions): Promise<void> {
  if (await exists(join(dir, "HEAD"))) {
    const fetched = await runGit([...LOW_SPEED, "fetch", "--prune", "--quiet", FETCH_PROGRAM, "origin"], {
      cwd: dir,
      log: options.log,
      timeoutMs: FETCH_TIMEOUT_MS,
    });
    if (fetched.exitCode !== 0) throw GitError.fetchFailed(url, fetched.stderr);
    return;
  }
  await cloneMirror(dir, url, options);
}

async function cloneMirror(dir: string, url: string, options: MirrorOptions): Promise<void> {
  const { log } = options;
  // Clone beside the final path and rename at the end: a crash mid-clone leaves a `.partial`
  // directory that the next attempt ignores, never a half-made mirror that looks finished.
  const partial = `${dir}.partial-${randomBytes(4).toString("hex")}`;
  await mkdir(dirname(dir), { recursive: true });
  try {
    const cloned = await runGit([...LOW_SPEED, "clone", "--bare", "--quiet", FETCH_PROGRAM, url, partial], {
      log,
      timeoutMs: CLONE_TIMEOUT_MS,
    });
    if (cloned.exitCode !== 0) throw GitError.cloneFailed(url, cloned.stderr);
    await configure(partial, options);
    const fetched = await runGit([...LOW_SPEED, "fetch", "--prune", "--quiet", FETCH_PROGRAM, "origin"], {
      cwd: partial,
      log,
      timeoutMs: FETCH_TIMEOUT_MS,
    });
    if (fetched.exitCode !== 0) throw GitError.fetchFailed(url, fetched.stderr);
    await dropClonedBranches(partial, log);
    await rename(partial, dir);
    log.info({ mirror: dir }, "mirror cloned");
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

async function configure(dir: string, options: MirrorOptions): Promise<void> {
  const settings: Array<[string, string]> = [
    ["remote.origin.fetch", FETCH_REFSPEC],
    // Auto-gc after a fetch would otherwise detach into the background and repack while the
    // next task, no longer blocked by our lock, fetches into the same repository.
    ["gc.autoDetach", "false"],
    // Pushes run outside the lock and update refs/remotes/origin/<branch>; let a colliding
    // fetch wait for that ref's lock instead of failing at once (the default is 100 ms).
    ["core.filesRefLockTimeout", "5000"],
  ];
  for (const key of ["user.name", "user.email"] as const) {
    // Effective config (system + global + this repo): only fill in what git lacks.
    const current = await runGit(["config", "--get", key], { cwd: dir, log: options.log });
    if (current.exitCode !== 0 || current.stdout.trim() === "") {
      settings.push([key, key === "user.name" ? options.identity.name : options.identity.email]);
    }
  }
  for (const [key, value] of settings) {
    await git(["config", key, value], { cwd: dir, log: options.log });
  }
}

/**
 * `clone --bare` copies the remote's branches into refs/heads/*, which belongs to worktrees
 * here. Stale copies would pin old objects and could clash with a task branch (a remote
 * branch `claude` blocks a local `claude/issue-1-x`). HEAD's branch stays so HEAD resolves.
 */
async function dropClonedBranches(dir: string, log: Logger): Promise<void> {
  const head = (await runGit(["symbolic-ref", "-q", "HEAD"], { cwd: dir, log })).stdout.trim();
  const refs = await git(["for-each-ref", "--format=%(refname)", "refs/heads/"], { cwd: dir, log });
  const doomed = refs.split("\n").filter((ref) => ref !== "" && ref !== head);
  if (doomed.length === 0) return;
  const input = doomed.map((ref) => `delete ${ref}\n`).join("");
  await git(["update-ref", "--stdin"], { cwd: dir, log, input });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
