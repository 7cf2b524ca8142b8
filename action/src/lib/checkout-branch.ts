import type { Logger } from "../../../src/shared/logger.js";
import { PushError } from "../../../src/workspace/errors.js";
import { git, runGit } from "../../../src/workspace/git.js";
import type { ConfigPair } from "../../../src/workspace/git-hardening.js";

export interface TaskBranch {
  dir: string;
  branch: string;
  /** The origin already had the branch (a retry): work continues from its tip. */
  reused: boolean;
  /** Commits after this one are this run's. */
  startSha: string;
}

/** Who commits when the runner's user has no git identity (actions/checkout sets none). */
const IDENTITY = { name: "Claude Code Cluster", email: "claude-code-cluster@users.noreply.github.com" };

/**
 * Puts the job's checkout on the task branch: the origin's `claude/issue-<n>-<slug>` when a
 * previous run pushed it, a new branch from the base otherwise. `auth` (gitCredentialConfig)
 * goes to the fetches only, never into the checkout's config.
 */
export async function checkoutTaskBranch(dir: string, branch: string, base: string, auth: readonly ConfigPair[], log: Logger): Promise<TaskBranch> {
  const network = { cwd: dir, log, timeoutMs: 15 * 60_000, config: auth };
  const fetched = await runGit(["fetch", "--quiet", "origin", `+refs/heads/${branch}:refs/remotes/origin/${branch}`], network);
  const reused = fetched.exitCode === 0;
  if (!reused) {
    await git(["fetch", "--quiet", "origin", `+refs/heads/${base}:refs/remotes/origin/${base}`], { ...network, code: "fetch-failed" });
  }
  await git(["checkout", "--quiet", "-B", branch, `refs/remotes/origin/${reused ? branch : base}`], { cwd: dir, log, code: "worktree-failed" });
  const startSha = (await git(["rev-parse", "HEAD"], { cwd: dir, log })).trim();
  return { dir, branch, reused, startSha };
}

/** Environment for Claude and our own commits when git has no identity of its own. */
export async function identityEnv(dir: string, log: Logger): Promise<Record<string, string>> {
  const email = await runGit(["config", "user.email"], { cwd: dir, log });
  if (email.exitCode === 0 && email.stdout.trim() !== "") return {};
  return { GIT_AUTHOR_NAME: IDENTITY.name, GIT_AUTHOR_EMAIL: IDENTITY.email, GIT_COMMITTER_NAME: IDENTITY.name, GIT_COMMITTER_EMAIL: IDENTITY.email };
}

/** Commits what Claude left uncommitted, then counts this run's commits. */
export async function commitRun(task: TaskBranch, message: string, log: Logger): Promise<number> {
  const status = await git(["status", "--porcelain"], { cwd: task.dir, log });
  if (status.trim() !== "") {
    const identity = await identityEnv(task.dir, log);
    const config = identity.GIT_AUTHOR_NAME ? ["-c", `user.name=${IDENTITY.name}`, "-c", `user.email=${IDENTITY.email}`] : [];
    await git(["add", "-A"], { cwd: task.dir, log });
    await git([...config, "commit", "--quiet", "--no-verify", "-m", message], { cwd: task.dir, log });
  }
  return Number((await git(["rev-list", "--count", `${task.startSha}..HEAD`], { cwd: task.dir, log })).trim());
}

/** Pushes the branch with `auth` given to this git process only; never forces. */
export async function pushTaskBranch(task: TaskBranch, auth: readonly ConfigPair[], log: Logger): Promise<void> {
  const result = await runGit(["push", "--quiet", "origin", `HEAD:refs/heads/${task.branch}`], { cwd: task.dir, log, timeoutMs: 15 * 60_000, config: auth });
  if (result.exitCode !== 0) throw new PushError(task.branch, result.stderr);
}
