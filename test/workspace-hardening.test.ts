import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_REPO_CONFIG } from "../src/config/repo-config.js";
import { untrustedOverrides } from "../src/workspace/git-hardening.js";
import { Workspace, type PrepareInput, type PreparedWorktree } from "../src/workspace/workspace.js";
import { branchCommits, createOrigin, type Origin } from "./helpers/git-origin.js";

const BRANCH = "claude/issue-9-harden";

/** What Claude could run with `Bash(git config:*)` or any shell: git as the agent's user, in the worktree. */
async function claudeGit(dir: string, args: string[]): Promise<void> {
  await execa("git", args, { cwd: dir });
}

/** A shell script that leaves `marker` behind when anything runs it. */
async function markerScript(dir: string, name: string, marker: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\ntouch '${marker}'\ncat\n`);
  await chmod(path, 0o755);
  return path;
}

describe("git on the agent PC, after Claude wrote in the worktree", () => {
  let origin: Origin;
  let root: string;
  let outside: string;
  let workspace: Workspace;
  let input: PrepareInput;
  let prepared: PreparedWorktree;

  beforeEach(async () => {
    origin = await createOrigin();
    root = await mkdtemp(join(tmpdir(), "ccc-hardening-"));
    // Markers live outside the worktree, where a stray `git add -A` cannot pick them up.
    outside = await mkdtemp(join(tmpdir(), "ccc-markers-"));
    workspace = new Workspace({ root });
    input = { owner: "octo", repo: "hello", cloneUrl: origin.url, branch: BRANCH, baseBranch: "main", taskKey: "octo/hello#9@1" };
    prepared = await workspace.prepare(input);
  });

  afterEach(async () => {
    await origin.cleanup();
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  const mirror = () => join(root, "mirrors", "octo", "hello.git");

  it("refuses a worktree whose .git now points at a repository Claude wrote, and runs nothing from it", async () => {
    const marker = join(outside, "fsmonitor-ran");
    const hook = await markerScript(outside, "fsmonitor.sh", marker);
    // A complete repository of Claude's making, with an index so that status consults fsmonitor.
    const evil = join(prepared.dir, "evil");
    await execa("git", ["init", "--quiet", "--separate-git-dir", evil, join(outside, "evil-tree")]);
    await execa("git", ["--git-dir", evil, "config", "core.fsmonitor", hook]);
    await execa("git", ["--git-dir", evil, "config", "core.hooksPath", outside]);
    await markerScript(outside, "post-commit", marker);
    await writeFile(join(prepared.dir, ".git"), "gitdir: ./evil\n");
    await writeFile(join(prepared.dir, "work.txt"), "work\n");

    const refused = { code: "worktree-tampered", retryable: false };
    await expect(workspace.commitLeftovers(prepared.dir, "Leftovers")).rejects.toMatchObject(refused);
    await expect(workspace.commitsAhead(prepared)).rejects.toMatchObject(refused);
    await expect(workspace.push(prepared)).rejects.toMatchObject(refused);
    await expect(workspace.commitLeftovers(prepared.dir, "Leftovers")).rejects.toThrow(
      "the worktree's .git was changed during the run; nothing was committed or pushed",
    );
    expect(existsSync(marker)).toBe(false);
    expect(await branchCommits(origin.dir, "main")).toEqual(["Initial commit"]);

    // Cleanup deletes the worktree without running git in it, and the mirror forgets it.
    await workspace.remove(prepared);
    expect(existsSync(prepared.dir)).toBe(false);
    expect((await execa("git", ["worktree", "list", "--porcelain"], { cwd: mirror() })).stdout).not.toContain(prepared.dir);
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses a .git that points at another worktree of the same mirror", async () => {
    const other = await workspace.prepare({ ...input, branch: "claude/issue-10-other", taskKey: "octo/hello#10@1" });
    await writeFile(join(prepared.dir, ".git"), await readFile(join(other.dir, ".git"), "utf8"));
    await expect(workspace.commitsAhead(prepared)).rejects.toMatchObject({ code: "worktree-tampered" });
  });

  it("commits leftovers without running the fsmonitor, hooks or clean filter Claude configured", async () => {
    const marker = join(outside, "ran");
    const hooks = join(outside, "hooks");
    await mkdir(hooks);
    for (const name of ["pre-commit", "post-commit", "commit-msg", "reference-transaction", "post-index-change"]) {
      await markerScript(hooks, name, marker);
    }
    // `git config` in the worktree writes the mirror's config: what Claude could do with a shell.
    await claudeGit(prepared.dir, ["config", "core.fsmonitor", await markerScript(outside, "fsmonitor.sh", marker)]);
    await claudeGit(prepared.dir, ["config", "core.hooksPath", hooks]);
    await claudeGit(prepared.dir, ["config", "filter.evil.clean", await markerScript(outside, "clean.sh", marker)]);
    await claudeGit(prepared.dir, ["config", "filter.evil.required", "true"]);
    // A driver name with `=` in it: `-c filter.a=b.clean=` would set the key `filter.a` instead.
    await claudeGit(prepared.dir, ["config", "filter.a=b.clean", await markerScript(outside, "clean2.sh", marker)]);
    await writeFile(join(prepared.dir, ".gitattributes"), "* filter=evil\n*.md filter=a=b\n");
    await writeFile(join(prepared.dir, "notes.md"), "notes\n");
    await writeFile(join(prepared.dir, "work.txt"), "work\n");

    expect(await workspace.commitLeftovers(prepared.dir, "Leftovers")).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(await workspace.commitsAhead(prepared)).toBe(1);
    const committed = await execa("git", ["show", "HEAD:work.txt"], { cwd: prepared.dir });
    expect(committed.stdout).toBe("work");
  });

  it("pushes without running a hook in the mirror or a receive-pack command from its config", async () => {
    const marker = join(outside, "ran");
    for (const name of ["pre-commit", "post-commit", "pre-push", "reference-transaction"]) {
      await markerScript(join(mirror(), "hooks"), name, marker);
    }
    // For a local remote git runs receive-pack itself, through the shell.
    await claudeGit(prepared.dir, ["config", "remote.origin.receivepack", `touch '${marker}'; git-receive-pack`]);
    await writeFile(join(prepared.dir, "work.txt"), "work\n");

    await workspace.commitLeftovers(prepared.dir, "Leftovers");
    await workspace.push(prepared);
    expect(await branchCommits(origin.dir, BRANCH)).toEqual(["Leftovers", "Initial commit"]);
    expect(existsSync(marker)).toBe(false);
  });

  it("keeps the machine's own credential helper and drops the ones the repository's config adds", async () => {
    const global = join(outside, "gitconfig");
    await writeFile(global, '[credential]\n\thelper = store\n[credential "https://example.com"]\n\thelper = cache\n');
    await claudeGit(prepared.dir, ["config", "credential.helper", `!touch '${join(outside, "ran")}'`]);
    await claudeGit(prepared.dir, ["config", "core.sshCommand", `touch '${join(outside, "never")}'`]);
    // Only this file as the machine's config: no system file, whatever this machine has there.
    const saved = { GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL, GIT_CONFIG_NOSYSTEM: process.env.GIT_CONFIG_NOSYSTEM };
    Object.assign(process.env, { GIT_CONFIG_GLOBAL: global, GIT_CONFIG_NOSYSTEM: "1" });
    try {
      const pairs = await untrustedOverrides(prepared.dir);
      expect(pairs).toContainEqual(["core.sshcommand", "ssh"]);
      expect(pairs.filter(([key]) => key.startsWith("credential."))).toEqual([
        ["credential.helper", ""],
        ["credential.helper", "store"],
        ["credential.https://example.com.helper", "cache"],
      ]);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe("the default allowed tools", () => {
  it("leave out git diff, whose --output writes any file (git diff --no-index --output=~/.ssh/authorized_keys)", () => {
    expect(DEFAULT_REPO_CONFIG.allowedTools).not.toContain("Bash(git diff:*)");
    expect(DEFAULT_REPO_CONFIG.allowedTools.filter((tool) => tool.startsWith("Bash("))).toEqual([
      "Bash(git add:*)",
      "Bash(git commit:*)",
      "Bash(git status:*)",
    ]);
  });
});
