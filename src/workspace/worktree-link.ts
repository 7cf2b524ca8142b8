import { lstat, readFile, realpath } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { GitError } from "./errors.js";

/**
 * Throws unless the worktree at `dir` still belongs to `mirror`: its `.git` file points at
 * `<mirror>/worktrees/<name>`, and that entry points back at `dir`. Claude can rewrite the
 * `.git` file (`gitdir: ./evil`), and any git run there would then read a config, hooks and
 * an index Claude wrote. Checked before every git step on a worktree after Claude ran.
 */
export async function assertWorktreeLinked(mirror: string, dir: string): Promise<void> {
  const why = await linkProblem(mirror, dir);
  if (why !== undefined) throw GitError.worktreeTampered(dir, why);
}

async function linkProblem(mirror: string, dir: string): Promise<string | undefined> {
  const dotGit = join(dir, ".git");
  const stat = await lstat(dotGit).catch(() => undefined);
  if (!stat?.isFile()) return stat ? ".git is no longer a plain file" : ".git is missing";
  const match = /^gitdir: (.+?)\r?\n?$/.exec(await readFile(dotGit, "utf8"));
  if (!match) return ".git does not hold a gitdir line";
  const entry = await realpath(resolve(dir, match[1]!)).catch(() => undefined);
  const entries = await realpath(join(mirror, "worktrees")).catch(() => undefined);
  if (entry === undefined || entries === undefined || dirname(entry) !== entries) {
    return `.git points at ${match[1]!}, not at the mirror's worktrees`;
  }
  // The entry's `gitdir` file names the worktree's .git file: it must be this one.
  const back = (await readFile(join(entry, "gitdir"), "utf8").catch(() => "")).trim();
  const [backReal, ownReal] = await Promise.all([realpath(back).catch(() => undefined), realpath(dotGit)]);
  if (back === "" || backReal !== ownReal) return `the mirror's entry ${entry} belongs to another worktree`;
  // And the entry must share the mirror's objects and refs (Claude cannot write there, but check).
  const common = (await readFile(join(entry, "commondir"), "utf8").catch(() => "")).trim();
  const [commonReal, mirrorReal] = await Promise.all([realpath(resolve(entry, common)).catch(() => undefined), realpath(mirror)]);
  if (common === "" || commonReal !== mirrorReal) return `the mirror's entry ${entry} does not point back at the mirror`;
  return undefined;
}
