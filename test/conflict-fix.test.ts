import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CI_WATCH_QUEUE, ciWatchJobId } from "../src/queue/ci-watch-queue.js";
import { PullRequestChecks } from "../src/store/pull-request-checks.js";
import { waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { pushCommit, tip } from "./helpers/git-origin.js";
import { labeledPayload, pushPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";
const BRANCH = "claude/issue-7-add-a-changelog-entry";
const PR = 8;

describe("the base of the cluster's pull request moves, through the app and a lone agent", () => {
  const cluster = useCluster({ env: { CCC_CI_SETTLE_SECONDS: "1", CCC_CONFIG_CACHE_SECONDS: "1" } });
  const scratch = mkdtempSync(join(tmpdir(), "ccc-conflict-"));
  const runLog = join(scratch, "runs.jsonl");
  let watchQueue: Queue;
  let agent: AgentProcess;
  beforeAll(() => {
    watchQueue = new Queue(CI_WATCH_QUEUE, { connection: cluster.redis, prefix: cluster.prefix });
  });
  afterAll(async () => {
    await watchQueue?.close();
    rmSync(scratch, { recursive: true, force: true });
  });
  const runs = () =>
    existsSync(runLog)
      ? readFileSync(runLog, "utf8")
          .split("\n")
          .filter((line) => line !== "" && !line.includes("Reply with the single word OK"))
          .map((line) => JSON.parse(line) as { prompt: string; branch: string | null })
      : [];
  const task = (number: number) => cluster.store.get(`${REPO}#${number}`);
  const git = async (...args: string[]) => (await execa("git", args, { cwd: cluster.origin.dir })).stdout.trim();
  const lookDone = (baseSha: string) =>
    waitFor(
      "the mergeability look to end",
      async () => (await watchQueue.getJob(ciWatchJobId({ kind: "mergeable", owner: "octo-org", repo: "hello", pr: PR, sha: baseSha }))) === undefined,
      30_000,
    );
  const moveMain = async (files: Record<string, string>, message: string) => {
    const before = (await tip(cluster.origin.dir, "main"))!;
    const after = await pushCommit(cluster.origin.dir, { branch: "main", message, files });
    expect((await cluster.deliver("push", pushPayload("main", after, before))).status).toBe(200);
    return after;
  };

  it("a base that moves without a conflict needs no Claude run", async () => {
    cluster.github.setFile(REPO, ".github/claude-cluster.yml", "ci_fix_attempts: 2\n");
    cluster.github.useOrigin(REPO, cluster.origin);
    agent = await cluster.startAgent({ name: "merger", env: { FAKE_CLAUDE_RUN_LOG: runLog } });
    expect((await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url }))).status).toBe(200);
    await waitFor("the issue's PR", async () => (await task(7))?.state === "pr-open", 40_000);
    const runsBefore = runs().length;

    const main = await moveMain({ "OTHER.md": "unrelated\n" }, "An unrelated change on main");
    await lookDone(main);
    expect(await new PullRequestChecks(cluster.redis, cluster.prefix).get("octo-org", "hello", PR)).toMatchObject({ conflictState: "clean" });
    expect(runs()).toHaveLength(runsBefore);
    expect(await task(PR)).toBeUndefined();
  }, 90_000);

  it("behind a base that branch protection wants merged in first, the agent merges it with no Claude run", async () => {
    cluster.github.requireUpToDate(REPO, true);
    const runsBefore = runs().length;
    const before = (await tip(cluster.origin.dir, BRANCH))!;
    const main = await moveMain({ "DOCS.md": "more\n" }, "Another unrelated change on main");
    const updated = await waitFor(
      "the branch brought up to date",
      async () => {
        const record = await task(PR);
        return record?.state === "pr-open" && record.conflict?.behind === true && record;
      },
      60_000,
    );
    expect(updated.result).toMatchObject({ costUsd: 0, turns: 0, commits: 1 });
    const after = (await tip(cluster.origin.dir, BRANCH))!;
    expect((await git("rev-list", "--parents", "-n", "1", after)).split(" ").slice(1)).toEqual([before, main]);
    expect(runs()).toHaveLength(runsBefore);
    // Up to date now: the attempts against conflicts are untouched.
    expect((await new PullRequestChecks(cluster.redis, cluster.prefix).get("octo-org", "hello", PR))?.conflictAttempts ?? 0).toBe(0);
    cluster.github.requireUpToDate(REPO, false);
  }, 90_000);

  it("a base that conflicts: the agent merges it in, Claude resolves the named files, and the merge is pushed on top (no rebase, no force push)", async () => {
    const before = (await tip(cluster.origin.dir, BRANCH))!;
    const main = await moveMain({ "CLAUDE_CHANGE.md": "# Changes\n\n- a change made on main\n" }, "A conflicting change on main");
    const resolved = await waitFor(
      "the conflict task to push",
      async () => {
        const record = await task(PR);
        return record?.state === "pr-open" && record.conflict !== undefined && !record.conflict.behind && record;
      },
      60_000,
    );
    expect(resolved.conflict).toEqual({ attempt: 1, maxAttempts: 2, baseBranch: "main" });

    const line = runs().at(-1)!;
    expect(line.branch).toBe(BRANCH);
    expect(line.prompt).toContain("resolving the conflicts of one pull request with its base branch");
    expect(line.prompt).toContain('<merge-conflicts base="main" attempt="1" of="2">\n<file>CLAUDE_CHANGE.md</file>\n</merge-conflicts>');

    const after = (await tip(cluster.origin.dir, BRANCH))!;
    // A merge commit whose parents are the PR's old head and main: nothing rewritten.
    expect((await git("rev-list", "--parents", "-n", "1", after)).split(" ").slice(1)).toEqual([before, main]);
    const merged = await git("show", `${after}:CLAUDE_CHANGE.md`);
    expect(merged).not.toMatch(/^(<{7}|>{7}) /m);
    expect(merged).toContain("- a change made on main");
    expect(merged).toContain("by fake claude");
    expect(cluster.github.pulls(REPO)).toHaveLength(1);
    await cluster.waitForGitHub("the PR's tracking comment", async () =>
      cluster.github
        .comments(REPO, PR)
        .some((c) => c.user.type === "Bot" && c.bodies.some((body) => body.includes("Resolving conflicts** with `main`, attempt 1 of 2"))),
    );
    // The same base move again (a redelivery) starts nothing new.
    const count = runs().length;
    const parent = await git("rev-parse", `${main}^`);
    expect((await cluster.deliver("push", pushPayload("main", main, parent))).status).toBe(200);
    await lookDone(main);
    expect(runs()).toHaveLength(count);
  }, 120_000);

  it("markers Claude leaves in fail the task with nothing pushed; then the attempts run out with one comment", async () => {
    await agent.stop();
    await cluster.startAgent({ name: "careless", env: { FAKE_CLAUDE_RUN_LOG: runLog, FAKE_CLAUDE_LEAVE_CONFLICTS: "1" } });
    const before = (await tip(cluster.origin.dir, BRANCH))!;
    await moveMain({ "CLAUDE_CHANGE.md": "# Changes\n\n- another change made on main\n" }, "Another conflicting change on main");
    // The count started again when the first conflict was resolved: this is attempt 1 of 2.
    const failedIn = (attempt: number) =>
      waitFor(
        `conflict attempt ${attempt} to fail`,
        async () => {
          const record = await task(PR);
          return record?.state === "failed" && record.conflict?.attempt === attempt && record;
        },
        60_000,
      );
    const failed = await failedIn(1);
    expect(failed.failure?.message).toContain("conflict markers are still in CLAUDE_CHANGE.md after Claude's run, so nothing was pushed");
    expect(await tip(cluster.origin.dir, BRANCH)).toBe(before);

    await moveMain({ "CLAUDE_CHANGE.md": "# Changes\n\n- a third change made on main\n" }, "A third conflicting change on main");
    await failedIn(2);
    const fourth = await moveMain({ "CLAUDE_CHANGE.md": "# Changes\n\n- a fourth change made on main\n" }, "A fourth conflicting change on main");
    await lookDone(fourth);
    await cluster.waitForGitHub("the give-up comment", async () =>
      cluster.github.comments(REPO, PR).find((c) => c.user.type === "Bot" && c.body.includes("Claude stopped resolving conflicts")),
    );
    expect(cluster.github.comments(REPO, PR).filter((c) => c.body.includes("Claude stopped resolving conflicts"))[0]!.body).toContain(
      "still conflicts with `main` after 2 attempts",
    );
    expect(await tip(cluster.origin.dir, BRANCH)).toBe(before);
    expect((await task(PR))?.run).toBe(4);
  }, 120_000);
});
