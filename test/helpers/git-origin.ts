import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";

export interface Origin {
  /** file:// URL, so clones and fetches go through git's transport like a real remote would. */
  url: string;
  /** The bare repository itself. */
  dir: string;
  cleanup(): Promise<void>;
}

// A fixed identity, so the helper works on a machine with no git config.
const IDENTITY = {
  GIT_AUTHOR_NAME: "Origin Helper",
  GIT_AUTHOR_EMAIL: "origin@example.invalid",
  GIT_COMMITTER_NAME: "Origin Helper",
  GIT_COMMITTER_EMAIL: "origin@example.invalid",
};

/** A bare "origin" in a temp dir with one commit ("Initial commit", README.md) on `main`. */
export async function createOrigin(): Promise<Origin> {
  const tmp = await mkdtemp(join(tmpdir(), "ccc-origin-"));
  const dir = join(tmp, "origin.git");
  await execa("git", ["init", "--quiet", "--bare", "--initial-branch=main", dir]);
  await pushCommit(dir, { branch: "main", message: "Initial commit", files: { "README.md": "# hello\n" } });
  return {
    url: pathToFileURL(dir).href,
    dir,
    cleanup: () => rm(tmp, { recursive: true, force: true }),
  };
}

/**
 * Adds a commit to `branch` directly in the bare origin, as if someone else had pushed it.
 * Starts the branch from `from` (default: the branch itself, or nothing) when it does not exist.
 */
export async function pushCommit(
  originDir: string,
  commit: { branch: string; message: string; files: Record<string, string>; from?: string },
): Promise<string> {
  const parent = (await tip(originDir, commit.branch)) ?? (commit.from ? await tip(originDir, commit.from) : undefined);
  // A throwaway index, so the bare repository needs no working tree.
  const indexDir = await mkdtemp(join(tmpdir(), "ccc-index-"));
  const env = { ...IDENTITY, GIT_INDEX_FILE: join(indexDir, "index") };
  const run = async (args: string[], input?: string) =>
    (await execa("git", args, { cwd: originDir, env, ...(input === undefined ? {} : { input }) })).stdout.trim();
  try {
    if (parent) await run(["read-tree", parent]);
    for (const [path, content] of Object.entries(commit.files)) {
      const blob = await run(["hash-object", "-w", "--stdin"], content);
      await run(["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`]);
    }
    const tree = await run(["write-tree"]);
    const sha = await run(["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", commit.message]);
    await run(["update-ref", `refs/heads/${commit.branch}`, sha]);
    return sha;
  } finally {
    await rm(indexDir, { recursive: true, force: true });
  }
}

/** Subjects of the commits on `branch` in the origin, newest first. */
export async function branchCommits(originDir: string, branch: string): Promise<string[]> {
  const { stdout } = await execa("git", ["log", "--format=%s", `refs/heads/${branch}`, "--"], { cwd: originDir });
  return lines(stdout);
}

/** Branch names in the origin (`main`, `claude/issue-1-x`, …), sorted. */
export async function listBranches(originDir: string): Promise<string[]> {
  const { stdout } = await execa("git", ["for-each-ref", "--format=%(refname:strip=2)", "refs/heads/"], {
    cwd: originDir,
  });
  return lines(stdout).sort();
}

/** The sha `branch` points at in the origin, or undefined when it has no such branch. */
export async function tip(originDir: string, branch: string): Promise<string | undefined> {
  const { stdout, exitCode } = await execa("git", ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], {
    cwd: originDir,
    reject: false,
  });
  return exitCode === 0 ? stdout.trim() : undefined;
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}
