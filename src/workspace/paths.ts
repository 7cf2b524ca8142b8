import { createHash } from "node:crypto";
import { join, relative, sep } from "node:path";
import { GitError } from "./errors.js";

/** Where a task's mirror and worktree live under the workspace root. */
export function workspacePaths(root: string, owner: string, repo: string, taskKey: string): { mirror: string; dir: string } {
  const [ownerDir, repoDir] = [pathSegment(owner), pathSegment(repo)];
  return {
    mirror: join(root, "mirrors", ownerDir, `${repoDir}.git`),
    dir: join(root, "worktrees", ownerDir, repoDir, worktreeName(taskKey)),
  };
}

/** The mirror a worktree directory belongs to, read back from its path. */
export function mirrorOfWorktree(root: string, dir: string): string {
  const parts = relative(join(root, "worktrees"), dir).split(sep);
  if (parts.length !== 3 || parts.some((part) => part === ".." || part === "")) {
    throw new GitError("invalid-path", `${dir} is not a worktree of the workspace at ${root}`);
  }
  return join(root, "mirrors", parts[0]!, `${parts[1]!}.git`);
}

/** A readable, filesystem-safe directory name; the hash keeps keys that sanitise alike apart. */
export function worktreeName(taskKey: string): string {
  const readable = taskKey
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[.-]+|-+$/g, "")
    .slice(0, 60);
  const hash = createHash("sha256").update(taskKey).digest("hex").slice(0, 8);
  return readable === "" ? hash : `${readable}-${hash}`;
}

/** An owner or repository name used as a directory name: GitHub's alphabet, nothing that climbs out. */
function pathSegment(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name) || name === "." || name === "..") {
    throw new GitError("invalid-path", `"${name}" is not a GitHub owner or repository name`);
  }
  return name;
}
