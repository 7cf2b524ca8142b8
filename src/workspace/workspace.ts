import { access, mkdir, readFile, realpath, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { silentLogger, type Logger } from "../shared/logger.js";
import { isValidBranchName } from "./branch-name.js";
import { GitError, PushError } from "./errors.js";
import { git, runGit } from "./git.js";
import { PUSH_PROGRAM } from "./git-hardening.js";
import type { KeptWorktree } from "./kept-worktrees.js";
import { KeyedMutex } from "./keyed-mutex.js";
import { syncMirror, type GitIdentity } from "./mirror.js";
import { mirrorOfWorktree, workspacePaths } from "./paths.js";
import { assertWorktreeLinked } from "./worktree-link.js";
import { addWorktree, checkoutWorktree, clearWorktreeSlot, removeWorktree, resolveRefs } from "./worktree.js";

export type { GitIdentity };

/** What merging the base branch into a worktree's branch did. */
export type BaseMerge =
  /** The base had nothing the branch lacks. */
  | { kind: "up-to-date" }
  /** Merged without a conflict: a merge commit is on the branch. */
  | { kind: "merged" }
  /** The merge stopped with these files conflicted; the merge is under way (MERGE_HEAD). */
  | { kind: "conflicts"; files: string[] };

/**
 * A line git opens or closes a conflict with: `<<<<<<< HEAD`, `>>>>>>> main`. Not `=======`
 * alone, which is also a Markdown heading's underline.
 */
const CONFLICT_MARKER = /^(?:<{7}|>{7}) \S/m;

export interface WorkspaceOptions {
  /** Holds `mirrors/<owner>/<repo>.git` and `worktrees/<owner>/<repo>/<task>`. */
  root: string;
  /** @defaultValue silentLogger */
  log?: Logger;
  /** Written to a new mirror's config only when git has no user.name / user.email of its own. */
  gitIdentity?: GitIdentity;
}

export const DEFAULT_GIT_IDENTITY: GitIdentity = {
  name: "Claude Code Cluster",
  email: "claude-code-cluster@users.noreply.github.com",
};

export interface PrepareInput {
  owner: string;
  repo: string;
  /** Fetched and pushed with this machine's own git credentials; never carries a token. */
  cloneUrl: string;
  /** `claude/issue-<n>-<slug>`, continued when the remote already has it. */
  branch: string;
  baseBranch: string;
  /** Names the worktree directory; the same key reuses (and first clears) the same path. */
  taskKey: string;
}

export interface PreparedWorktree {
  dir: string;
  branch: string;
  /** The remote already had the branch (a retry): work continues from its tip. */
  reusedBranch: boolean;
  /** Tip of `origin/<baseBranch>` after the fetch. */
  baseSha: string;
  /** Where the worktree's branch started: commits after this one are this run's. */
  startSha: string;
  /** mirrorMs includes waiting for other tasks on the same repo; the two add up to the whole prepare. */
  timings: { mirrorMs: number; worktreeMs: number };
}

const PUSH_TIMEOUT_MS = 15 * 60_000;

/** Bare mirror per repository, git worktree per task: a task starts in well under a second instead of a full clone. */
export class Workspace {
  private readonly root: string;
  private readonly log: Logger;
  private readonly identity: GitIdentity;
  /** Serialises every operation that writes to a mirror (clone, fetch, worktree add/remove/prune, branch -D). */
  private readonly locks = new KeyedMutex();
  private realRoot: Promise<string> | undefined;

  constructor(options: WorkspaceOptions) {
    this.root = resolve(options.root);
    this.log = options.log ?? silentLogger;
    this.identity = options.gitIdentity ?? DEFAULT_GIT_IDENTITY;
  }

  async prepare(input: PrepareInput): Promise<PreparedWorktree> {
    const started = performance.now();
    const { owner, repo, branch, baseBranch } = input;
    const log = this.log.child({ repo: `${owner}/${repo}`, taskKey: input.taskKey, branch });
    for (const name of [branch, baseBranch]) {
      if (!isValidBranchName(name)) throw new GitError("invalid-ref", `"${name}" is not a valid git branch name`);
    }
    const root = await this.resolvedRoot();
    const { mirror, dir } = workspacePaths(root, owner, repo, input.taskKey);

    let mirrorMs = 0;
    const refs = await this.locks.run(mirror, async () => {
      await syncMirror(mirror, input.cloneUrl, { log, identity: this.identity });
      mirrorMs = performance.now() - started;
      const remoteBranch = `refs/remotes/origin/${branch}`;
      const remoteBase = `refs/remotes/origin/${baseBranch}`;
      const localBranch = `refs/heads/${branch}`;
      const shas = await resolveRefs(mirror, [remoteBranch, remoteBase, localBranch], log);
      const baseSha = shas.get(remoteBase);
      if (baseSha === undefined) {
        throw new GitError(
          "base-branch-missing",
          `${owner}/${repo} has no branch "${baseBranch}" on origin: check the task's base branch or the repository's default branch`,
        );
      }
      const branchSha = shas.get(remoteBranch);
      const startSha = branchSha ?? baseSha;
      await mkdir(dirname(dir), { recursive: true });
      // Fast path for the usual first run: no local branch and no directory means nothing stale
      // can be in the way. Anything else (a crash, a retry) clears the slot first.
      if (shas.has(localBranch) || (await exists(dir))) await clearWorktreeSlot(mirror, dir, branch, log);
      await addWorktree(mirror, dir, branch, startSha, log).catch(async (error: unknown) => {
        // A leftover the fast path could not see (a registration whose directory is gone).
        log.warn({ err: error }, "worktree add failed; clearing stale worktrees and retrying");
        await clearWorktreeSlot(mirror, dir, branch, log);
        await addWorktree(mirror, dir, branch, startSha, log);
      });
      return { baseSha, startSha, reusedBranch: branchSha !== undefined };
    });

    try {
      await checkoutWorktree(dir, log);
    } catch (error) {
      await this.locks.run(mirror, () => removeWorktree(mirror, dir, log)).catch(() => undefined);
      throw error;
    }
    const worktreeMs = performance.now() - started - mirrorMs;
    log.info({ dir, reusedBranch: refs.reusedBranch, mirrorMs, worktreeMs }, "worktree ready");
    return { dir, branch, ...refs, timings: { mirrorMs, worktreeMs } };
  }

  /**
   * Takes up a worktree an earlier attempt kept (kept-worktrees.ts) as it is, with the commits
   * and changes it holds. Trusted only while its `.git` still leads to its mirror and HEAD is
   * still the task's branch; otherwise it is removed and `why` says what was wrong, so the
   * caller prepares a fresh one.
   */
  async reopen(kept: KeptWorktree): Promise<{ prepared: PreparedWorktree } | { why: string }> {
    const started = performance.now();
    const root = await this.resolvedRoot();
    let mirror: string;
    try {
      mirror = mirrorOfWorktree(root, kept.dir);
    } catch (error) {
      return { why: (error as Error).message };
    }
    if (!(await exists(kept.dir))) return { why: `${kept.dir} is gone` };
    const log = this.log.child({ dir: kept.dir, branch: kept.branch });
    const problem = await assertWorktreeLinked(mirror, kept.dir).then(
      async () => {
        const head = await runGit(["symbolic-ref", "--quiet", "HEAD"], { cwd: kept.dir, log });
        return head.exitCode === 0 && head.stdout.trim() === `refs/heads/${kept.branch}` ? undefined : `HEAD is no longer on ${kept.branch}`;
      },
      (error: Error) => error.message,
    );
    if (problem !== undefined) {
      await this.remove(kept).catch((error: Error) => log.warn({ err: error }, "could not remove a kept worktree that cannot be trusted"));
      return { why: problem };
    }
    const { dir, branch, baseSha, startSha, reusedBranch } = kept;
    return { prepared: { dir, branch, baseSha, startSha, reusedBranch, timings: { mirrorMs: 0, worktreeMs: performance.now() - started } } };
  }

  /** Commits on HEAD that were not there when the worktree was prepared: what this run added. */
  async commitsAhead(prepared: PreparedWorktree): Promise<number> {
    await this.assertLinked(prepared.dir);
    // First parents only: a merge of the base counts as one commit, not as every commit it brings.
    const out = await git(["rev-list", "--count", "--first-parent", `${prepared.startSha}..HEAD`], { cwd: prepared.dir, log: this.log });
    return Number(out.trim());
  }

  /** The commit HEAD is on: what a push sends, so that the checks GitHub runs on it can be told apart from a person's. */
  async headSha(prepared: PreparedWorktree): Promise<string> {
    await this.assertLinked(prepared.dir);
    return (await git(["rev-parse", "HEAD"], { cwd: prepared.dir, log: this.log })).trim();
  }

  /**
   * Merges `origin/<baseBranch>` (as last fetched) into the worktree's branch with a merge
   * commit, never a rebase: the commits reviewers commented on stay. A merge an earlier attempt
   * left under way (in a kept worktree) is aborted first: its base may have moved since, and
   * files it staged would hide their conflicts from the marker check.
   */
  async mergeBase(prepared: PreparedWorktree, baseBranch: string): Promise<BaseMerge> {
    const { dir } = prepared;
    await this.assertLinked(dir);
    const unmerged = async () => (await git(["diff", "--name-only", "--diff-filter=U", "-z"], { cwd: dir, log: this.log })).split("\0").filter(Boolean);
    if ((await runGit(["rev-parse", "-q", "--verify", "MERGE_HEAD"], { cwd: dir, log: this.log })).exitCode === 0) {
      await git(["merge", "--abort"], { cwd: dir, log: this.log });
      await this.assertLinked(dir);
    }
    const before = await this.headSha(prepared);
    const merged = await runGit(["merge", "--no-edit", "--no-ff", "-m", `Merge ${baseBranch} into ${prepared.branch}`, `refs/remotes/origin/${baseBranch}`], {
      cwd: dir,
      log: this.log,
    });
    if (merged.exitCode === 0) return (await this.headSha(prepared)) === before ? { kind: "up-to-date" } : { kind: "merged" };
    await this.assertLinked(dir);
    const files = await unmerged();
    if (files.length === 0) throw new GitError("merge-failed", `git merge of ${baseBranch} failed: ${merged.stderr.split("\n")[0] ?? ""}`);
    return { kind: "conflicts", files };
  }

  /** Files among `files` that still hold a conflict marker line (`<<<<<<<`, `=======`, `>>>>>>>`). */
  async conflictMarkers(dir: string, files: readonly string[]): Promise<string[]> {
    await this.assertLinked(dir);
    const marked: string[] = [];
    for (const file of files) {
      const text = await readFile(join(dir, file), "utf8").catch(() => "");
      if (CONFLICT_MARKER.test(text)) marked.push(file);
    }
    return marked;
  }

  /** Concludes a merge under way (MERGE_HEAD) with everything in the worktree; nothing to do without one. */
  async commitMerge(dir: string): Promise<boolean> {
    await this.assertLinked(dir);
    if ((await runGit(["rev-parse", "-q", "--verify", "MERGE_HEAD"], { cwd: dir, log: this.log })).exitCode !== 0) return false;
    await git(["add", "-A"], { cwd: dir, log: this.log });
    await this.assertLinked(dir);
    await git(["commit", "--quiet", "--no-verify", "--no-edit"], { cwd: dir, log: this.log });
    return true;
  }

  /** Commits whatever Claude left uncommitted (tracked or not, minus .gitignore); true when it did. */
  async commitLeftovers(dir: string, message: string): Promise<boolean> {
    await this.assertLinked(dir);
    const status = await git(["status", "--porcelain"], { cwd: dir, log: this.log });
    if (status.trim() === "") return false;
    await this.assertLinked(dir);
    await git(["add", "-A"], { cwd: dir, log: this.log });
    await this.assertLinked(dir);
    // --no-verify: hooks a task installed (husky writes core.hooksPath) must not throw away its work.
    await git(["commit", "--quiet", "--no-verify", "-m", message], { cwd: dir, log: this.log });
    return true;
  }

  /**
   * Puts the worktree back to its last commit: what a test command wrote (reports, snapshots,
   * build output that is not ignored) is not Claude's work and must not be committed as such.
   * Ignored files (dependencies, caches) stay. Call it only once Claude's work is committed.
   */
  async discardChanges(dir: string): Promise<void> {
    await this.assertLinked(dir);
    await git(["reset", "--hard", "--quiet"], { cwd: dir, log: this.log });
    await this.assertLinked(dir);
    await git(["clean", "-d", "--force", "--quiet"], { cwd: dir, log: this.log });
  }

  /** Pushes HEAD to the task branch with this machine's git credentials; never forces. */
  async push(prepared: PreparedWorktree): Promise<void> {
    await this.assertLinked(prepared.dir);
    const result = await runGit(["push", "--quiet", PUSH_PROGRAM, "origin", `HEAD:refs/heads/${prepared.branch}`], {
      cwd: prepared.dir,
      log: this.log,
      timeoutMs: PUSH_TIMEOUT_MS,
    });
    if (result.exitCode !== 0) throw new PushError(prepared.branch, result.stderr);
  }

  /** Removes the worktree and its local branch. Safe to call twice, or after a crash removed half of it. */
  async remove(prepared: Pick<PreparedWorktree, "dir" | "branch">): Promise<void> {
    const root = await this.resolvedRoot();
    const mirror = mirrorOfWorktree(root, prepared.dir);
    const log = this.log.child({ dir: prepared.dir, branch: prepared.branch });
    if (!(await exists(join(mirror, "HEAD")))) {
      await rm(prepared.dir, { recursive: true, force: true });
      return;
    }
    // A worktree whose .git Claude rewrote is deleted without running git in it; the mirror
    // then only drops its registration, as for a directory that is gone.
    const linked = await assertWorktreeLinked(mirror, prepared.dir).then(
      () => true,
      () => false,
    );
    if (!linked) await rm(prepared.dir, { recursive: true, force: true });
    await this.locks.run(mirror, async () => {
      await removeWorktree(mirror, prepared.dir, log);
      const deleted = await runGit(["branch", "-D", "--quiet", prepared.branch], { cwd: mirror, log });
      // Already gone, or checked out by a newer run of the task: either way not ours to force.
      if (deleted.exitCode !== 0) log.debug({ stderr: deleted.stderr }, "local branch not deleted");
    });
    if (await exists(prepared.dir)) {
      throw new GitError("remove-failed", `could not remove ${prepared.dir}: check its permissions, then delete it by hand`);
    }
  }

  /** Refuses a worktree whose .git no longer leads to its mirror (worktree-link.ts). */
  private async assertLinked(dir: string): Promise<void> {
    const mirror = mirrorOfWorktree(await this.resolvedRoot(), dir);
    await assertWorktreeLinked(mirror, dir);
  }

  /** Git records worktree paths resolved through symlinks (macOS /tmp); compare like with like. */
  private resolvedRoot(): Promise<string> {
    this.realRoot ??= mkdir(this.root, { recursive: true }).then(() => realpath(this.root));
    return this.realRoot;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
