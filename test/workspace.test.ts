import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitError, PushError } from "../src/workspace/errors.js";
import { Workspace, type PrepareInput } from "../src/workspace/workspace.js";
import { branchCommits, createOrigin, listBranches, pushCommit, tip, type Origin } from "./helpers/git-origin.js";

const BRANCH = "claude/issue-7-fix-login";

async function gitIn(dir: string, args: string[]): Promise<string> {
  return (await execa("git", args, { cwd: dir })).stdout.trim();
}

describe("Workspace", () => {
  let origin: Origin;
  let root: string;
  let workspace: Workspace;
  let input: PrepareInput;

  beforeEach(async () => {
    origin = await createOrigin();
    root = await mkdtemp(join(tmpdir(), "ccc-workspace-"));
    workspace = new Workspace({ root });
    input = { owner: "octo", repo: "hello", cloneUrl: origin.url, branch: BRANCH, baseBranch: "main", taskKey: "octo/hello#7@1" };
  });

  afterEach(async () => {
    await origin.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  const mirror = () => join(root, "mirrors", "octo", "hello.git");

  it("prepares a worktree on a new branch from main", async () => {
    const prepared = await workspace.prepare(input);
    const main = await tip(origin.dir, "main");
    expect(prepared).toMatchObject({ branch: BRANCH, reusedBranch: false, baseSha: main, startSha: main });
    expect(prepared.dir.startsWith(join(root, "worktrees", "octo", "hello"))).toBe(true);
    expect(await gitIn(prepared.dir, ["symbolic-ref", "--short", "HEAD"])).toBe(BRANCH);
    expect(await readFile(join(prepared.dir, "README.md"), "utf8")).toBe("# hello\n");
    expect(await gitIn(prepared.dir, ["status", "--porcelain"])).toBe("");
    expect(await workspace.commitsAhead(prepared)).toBe(0);
    expect(prepared.timings.mirrorMs).toBeGreaterThan(0);
  });

  it("pushes a commit to the task branch on origin", async () => {
    const prepared = await workspace.prepare(input);
    await writeFile(join(prepared.dir, "login.ts"), "export const fixed = true;\n");
    await gitIn(prepared.dir, ["add", "login.ts"]);
    await gitIn(prepared.dir, ["commit", "-m", "Fix the login button"]);
    expect(await workspace.commitsAhead(prepared)).toBe(1);

    await workspace.push(prepared);
    expect(await branchCommits(origin.dir, BRANCH)).toEqual(["Fix the login button", "Initial commit"]);
    expect(await listBranches(origin.dir)).toEqual([BRANCH, "main"]);
  });

  it("continues the pushed branch on a retry, starting from its tip", async () => {
    const first = await workspace.prepare(input);
    await writeFile(join(first.dir, "a.txt"), "a\n");
    await workspace.commitLeftovers(first.dir, "First attempt");
    await workspace.push(first);
    await workspace.remove(first);
    await pushCommit(origin.dir, { branch: "main", message: "Meanwhile on main", files: { "m.txt": "m\n" } });

    const retry = await workspace.prepare({ ...input, taskKey: "octo/hello#7@2" });
    expect(retry.reusedBranch).toBe(true);
    expect(retry.startSha).toBe(await tip(origin.dir, BRANCH));
    expect(retry.baseSha).toBe(await tip(origin.dir, "main"));
    expect(await readFile(join(retry.dir, "a.txt"), "utf8")).toBe("a\n");
    expect(await workspace.commitsAhead(retry)).toBe(0);

    await writeFile(join(retry.dir, "b.txt"), "b\n");
    await workspace.commitLeftovers(retry.dir, "Second attempt");
    expect(await workspace.commitsAhead(retry)).toBe(1);
    await workspace.push(retry);
    expect(await branchCommits(origin.dir, BRANCH)).toEqual(["Second attempt", "First attempt", "Initial commit"]);
  });

  it("removes the worktree directory and the local branch, and tolerates a second remove", async () => {
    const prepared = await workspace.prepare(input);
    await workspace.remove(prepared);
    expect(existsSync(prepared.dir)).toBe(false);
    expect(await gitIn(mirror(), ["branch", "--list", BRANCH])).toBe("");
    expect(await gitIn(mirror(), ["worktree", "list", "--porcelain"])).not.toContain(prepared.dir);
    await expect(workspace.remove(prepared)).resolves.toBeUndefined();
  });

  it("runs 6 concurrent prepares on one repository without corrupting the mirror", async () => {
    const inputs = Array.from({ length: 6 }, (_, i) => ({
      ...input,
      branch: `claude/issue-${i + 1}-task`,
      taskKey: `octo/hello#${i + 1}@1`,
    }));
    // The first prepare clones; the other five wait for it and then fetch.
    const prepared = await Promise.all(inputs.map((each) => workspace.prepare(each)));
    expect(new Set(prepared.map((p) => p.dir)).size).toBe(6);
    for (const p of prepared) {
      expect(await gitIn(p.dir, ["symbolic-ref", "--short", "HEAD"])).toBe(p.branch);
    }
    const fsck = await execa("git", ["fsck", "--full", "--strict"], { cwd: mirror(), reject: false });
    expect(fsck.exitCode).toBe(0);
    expect(`${fsck.stdout}${fsck.stderr}`).not.toMatch(/error|missing|broken|corrupt/i);

    // Warm mirror, origin moved on: six fetches with work to do, plus six removes, at once.
    for (let i = 1; i <= 6; i++) {
      await pushCommit(origin.dir, { branch: `feature-${i}`, from: "main", message: `f${i}`, files: { [`f${i}`]: `${i}\n` } });
    }
    const again = inputs.map((each) => ({ ...each, taskKey: `${each.taskKey}-retry` }));
    await Promise.all([...prepared.map((p) => workspace.remove(p)), ...again.map((each) => workspace.prepare(each))]);
    const fsckAgain = await execa("git", ["fsck", "--full", "--strict"], { cwd: mirror(), reject: false });
    expect(fsckAgain.exitCode).toBe(0);
    const features = await gitIn(mirror(), ["for-each-ref", "--format=%(refname)", "refs/remotes/origin/feature-*"]);
    expect(features.split("\n")).toHaveLength(6);
  });

  it("is not blocked by a worktree a crashed run left behind", async () => {
    const crashed = await workspace.prepare(input);
    await writeFile(join(crashed.dir, "half-done.txt"), "unsaved\n");
    // A new process: no memory of the first run, same directory, same branch still checked out there.
    const restarted = new Workspace({ root });
    const again = await restarted.prepare(input);
    expect(again.dir).toBe(crashed.dir);
    expect(existsSync(join(again.dir, "half-done.txt"))).toBe(false);

    // A retry under a new task key finds the branch still held by the old worktree.
    const retry = await restarted.prepare({ ...input, taskKey: "octo/hello#7@2" });
    expect(await gitIn(retry.dir, ["symbolic-ref", "--short", "HEAD"])).toBe(BRANCH);
    expect(existsSync(crashed.dir)).toBe(false);
  });

  it("is not blocked by a directory that was never registered as a worktree", async () => {
    const first = await workspace.prepare(input);
    await workspace.remove(first);
    await mkdir(join(first.dir, "src"), { recursive: true });
    await writeFile(join(first.dir, "src", "junk.txt"), "junk\n");
    const prepared = await workspace.prepare(input);
    expect(prepared.dir).toBe(first.dir);
    expect(existsSync(join(prepared.dir, "src", "junk.txt"))).toBe(false);
  });

  it("is not blocked by a registration whose directory was deleted", async () => {
    const first = await workspace.prepare(input);
    await rm(first.dir, { recursive: true, force: true });
    // Same path, another branch: nothing local hints at the stale registration until git refuses.
    const prepared = await workspace.prepare({ ...input, branch: "claude/issue-8-other" });
    expect(prepared.dir).toBe(first.dir);
    expect(await gitIn(prepared.dir, ["symbolic-ref", "--short", "HEAD"])).toBe("claude/issue-8-other");
  });

  it("reports a clone that fails with GitError naming the fix, without leaking a token", async () => {
    const bad = { ...input, cloneUrl: "https://x-access-token:ghs_supersecret123456@127.0.0.1:1/octo/hello.git" };
    const error = await workspace.prepare(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect(error).toMatchObject({ code: "clone-failed" });
    const { message, stderr } = error as GitError;
    expect(message).toContain("check this machine's git credentials (see docs/configuration.md)");
    expect(`${message}${stderr}`).not.toContain("supersecret");
    expect(existsSync(join(root, "mirrors", "octo", "hello.git"))).toBe(false);

    const missing = await workspace.prepare({ ...input, cloneUrl: `${origin.url}-missing` }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "clone-failed" });
  });

  it("reports a fetch that fails with GitError", async () => {
    await workspace.prepare(input);
    await origin.cleanup();
    await expect(workspace.prepare({ ...input, taskKey: "other" })).rejects.toMatchObject({
      code: "fetch-failed",
      message: expect.stringContaining("could not fetch"),
    });
  });

  it("reports a missing base branch and an invalid branch name", async () => {
    await expect(workspace.prepare({ ...input, baseBranch: "develop" })).rejects.toMatchObject({ code: "base-branch-missing" });
    await expect(workspace.prepare({ ...input, branch: "claude/a..b" })).rejects.toMatchObject({ code: "invalid-ref" });
    await expect(workspace.prepare({ ...input, repo: ".." })).rejects.toMatchObject({ code: "invalid-path" });
  });

  it("commits what Claude left uncommitted, and nothing when the tree is clean", async () => {
    const prepared = await workspace.prepare(input);
    expect(await workspace.commitLeftovers(prepared.dir, "Leftovers")).toBe(false);
    await writeFile(join(prepared.dir, "README.md"), "# changed\n");
    await mkdir(join(prepared.dir, "docs"));
    await writeFile(join(prepared.dir, "docs", "new.md"), "new\n");
    expect(await workspace.commitLeftovers(prepared.dir, "Leftovers")).toBe(true);
    expect(await gitIn(prepared.dir, ["status", "--porcelain"])).toBe("");
    expect(await gitIn(prepared.dir, ["log", "-1", "--format=%s", "--name-only"])).toBe("Leftovers\n\nREADME.md\ndocs/new.md");
    expect(await workspace.commitsAhead(prepared)).toBe(1);
  });

  it("raises PushError when someone else moved the branch", async () => {
    const prepared = await workspace.prepare(input);
    await pushCommit(origin.dir, { branch: BRANCH, from: "main", message: "Someone else", files: { "x.txt": "x\n" } });
    await writeFile(join(prepared.dir, "y.txt"), "y\n");
    await workspace.commitLeftovers(prepared.dir, "Ours");
    const error = await workspace.push(prepared).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushError);
    expect((error as PushError).message).toMatch(/rejected/);
    expect(await branchCommits(origin.dir, BRANCH)).toEqual(["Someone else", "Initial commit"]);
  });

  it("gives commits an identity on a machine with no git user configured", async () => {
    const saved = { ...process.env };
    process.env.GIT_CONFIG_GLOBAL = "/dev/null";
    process.env.GIT_CONFIG_NOSYSTEM = "1";
    try {
      const prepared = await new Workspace({ root, gitIdentity: { name: "Bot", email: "bot@example.invalid" } }).prepare(input);
      await writeFile(join(prepared.dir, "z.txt"), "z\n");
      expect(await workspace.commitLeftovers(prepared.dir, "By the bot")).toBe(true);
      expect(await gitIn(prepared.dir, ["log", "-1", "--format=%an <%ae>"])).toBe("Bot <bot@example.invalid>");
    } finally {
      process.env = saved;
    }
  });
});
