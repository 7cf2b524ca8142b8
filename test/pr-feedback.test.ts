import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { STATE_LABELS } from "../src/shared/task-state.js";
import { waitFor } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { pushCommit, tip } from "./helpers/git-origin.js";
import { closedPullRequestPayload, labeledPayload, pullRequestCommentPayload, reviewSubmittedPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";
const BRANCH = "claude/issue-7-add-a-changelog-entry";
/** The cluster opens its PR for issue #7 as the repository's next number. */
const PR = 8;

interface RunLine {
  at: number;
  cwd: string;
  branch: string | null;
  prompt: string;
}

describe("review feedback on a pull request, through the app and agent processes", () => {
  const cluster = useCluster();
  const scratch = mkdtempSync(join(tmpdir(), "ccc-pr-feedback-"));
  const runLog = join(scratch, "runs.jsonl");
  /** Claude's runs finish only while this file exists (FAKE_CLAUDE_HOLD_FILE). */
  const release = join(scratch, "release");
  writeFileSync(release, "");
  /** Delivery → Claude's process on the PR branch, per measured run, and its parts. */
  const latencies: number[] = [];
  const parts: string[] = [];
  afterAll(() => {
    if (latencies.length > 0) {
      const sorted = latencies.toSorted((a, b) => a - b);
      console.log(`PR comment delivery → Claude started on the PR branch: ${sorted.join(", ")} ms; p50 ${sorted[Math.floor((sorted.length - 1) / 2)]} ms`);
      console.log(`intake (delivery → queued) / pickup (queued → claimed) / worktree + spawn (claimed → Claude): ${parts.join("; ")}`);
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  const runs = (): RunLine[] =>
    existsSync(runLog)
      ? readFileSync(runLog, "utf8")
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.parse(line) as RunLine)
          .filter((run) => !run.prompt.startsWith("Reply with the single word OK"))
      : [];
  const botComments = (number: number) => cluster.github.comments(REPO, number).filter((c) => c.user.type === "Bot");
  const task = (number: number) => cluster.store.get(`${REPO}#${number}`);
  const isAncestor = async (older: string, newer: string) =>
    (await execa("git", ["merge-base", "--is-ancestor", older, newer], { cwd: cluster.origin.dir, reject: false })).exitCode === 0;
  /** Delivers `/claude run …` on the PR and waits for the run to end; returns the run's Claude line. */
  const runOnPr = async (event: string, payload: unknown, run: number): Promise<RunLine> => {
    const before = runs().length;
    const deliveredAt = Date.now();
    expect((await cluster.deliver(event, payload)).status).toBe(200);
    const line = await waitFor("Claude on the PR branch", async () => runs()[before], 30_000);
    latencies.push(line.at - deliveredAt);
    const ended = await waitFor(`run ${run} of the PR task to end`, async () => {
      const record = await task(PR);
      return record?.run === run && record.state !== "queued" && record.state !== "running" && record;
    });
    parts.push(`${ended.queuedAt - deliveredAt}/${ended.startedAt! - ended.queuedAt}/${line.at - ended.startedAt!} ms`);
    return line;
  };

  it("a writer's `/claude run` on the cluster's PR adds commits to its branch: no second PR, no force push, one tracking comment on the PR", async () => {
    const { github } = cluster;
    await cluster.startAgent({ name: "pr-agent", env: { FAKE_CLAUDE_RUN_LOG: runLog, FAKE_CLAUDE_HOLD_FILE: release } });
    expect((await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url }))).status).toBe(200);
    await waitFor("the issue's PR", async () => (await task(7))?.state === "pr-open", 40_000);
    expect(github.pulls(REPO).map((p) => p.number)).toEqual([PR]);
    const before = (await tip(cluster.origin.dir, BRANCH))!;
    // The fake knows issue #7 by number only: give it what the issue said.
    Object.assign(github.issue(REPO, 7)!, { title: "Add a changelog entry", body: "Please add a CHANGELOG entry for the new release." });

    const thread = github.addReviewComment(REPO, PR, { body: "Rename X to Y in this file, it reads better.", path: "CLAUDE_CHANGE.md", line: 3 });
    github.addReviewComment(REPO, PR, {
      body: "Agreed, and keep the old name in the changelog.",
      inReplyTo: thread.id,
      user: { login: "second", type: "User" },
    });
    const trigger = github.addComment(REPO, PR, "/claude run rename X\nand mention it in the summary");
    const line = await runOnPr(
      "issue_comment",
      pullRequestCommentPayload(trigger.body, { number: PR, commentId: trigger.id, cloneUrl: cluster.origin.url }),
      1,
    );

    // Claude ran in a worktree on the PR's head branch, with the instructions, the thread and the issue.
    expect(line.branch).toBe(BRANCH);
    expect(line.cwd).toMatch(/\/worktrees\/octo-org\/hello\/pr-8-[0-9a-f]+$/);
    expect(line.prompt).toContain("<instructions>\nrename X\n\nand mention it in the summary\n</instructions>");
    expect(line.prompt).toContain('<thread path="CLAUDE_CHANGE.md" line="3">');
    expect(line.prompt).toContain("Rename X to Y in this file, it reads better.");
    expect(line.prompt).toContain('<comment author="@second"');
    expect(line.prompt).toMatch(/<linked-issue>\n<title>Add a changelog entry<\/title>\n<number>#7<\/number>/);
    expect(line.prompt).toContain("Please add a CHANGELOG entry for the new release.");

    const record = await task(PR);
    expect(record).toMatchObject({
      state: "pr-open",
      issueNumber: PR,
      prNumber: PR,
      branch: BRANCH,
      pullRequest: { number: PR, headBranch: BRANCH, baseBranch: "main" },
      specialty: (await task(7))!.specialty,
      result: { commits: 1 },
    });
    // New commits on top of the old ones: the old tip is an ancestor of the new one.
    const after = (await tip(cluster.origin.dir, BRANCH))!;
    expect(after).not.toBe(before);
    expect(await isAncestor(before, after)).toBe(true);
    expect(github.pulls(REPO)).toHaveLength(1);
    await cluster.waitForGitHub("the PR's tracking comment", async () => botComments(PR)[0]?.body.includes("Pushed to this pull request"), `${REPO}#${PR}`);
    expect(botComments(PR)).toHaveLength(1);
    expect(botComments(PR)[0]!.body).toContain("1 new commit on `claude/issue-7-add-a-changelog-entry`");
    await cluster.waitForGitHub("the PR's state label", async () => github.labels(REPO, PR).includes("claude:pr-open"), `${REPO}#${PR}`);
    expect(github.labels(REPO, PR).filter((l) => STATE_LABELS.includes(l))).toEqual(["claude:pr-open"]);
    // The issue's own tracking comment is untouched by the PR's task.
    expect(botComments(7)).toHaveLength(1);
  }, 90_000);

  it("a review requesting changes with `/claude run` in its body runs the same way, with its inline comments and only the feedback since the last run", async () => {
    const { github } = cluster;
    const before = (await tip(cluster.origin.dir, BRANCH))!;
    const review = github.addReview(REPO, PR, { body: "/claude run split the function", state: "CHANGES_REQUESTED" });
    github.addReviewComment(REPO, PR, { body: "This block deserves its own function.", path: "src/a.ts", line: 12, reviewId: review.id });
    const payload = reviewSubmittedPayload(review.body, { number: PR, reviewId: review.id, headBranch: BRANCH, cloneUrl: cluster.origin.url });
    const line = await runOnPr("pull_request_review", payload, 2);

    expect(line.branch).toBe(BRANCH);
    expect(line.prompt).toContain("<instructions>\nsplit the function\n</instructions>");
    expect(line.prompt).toContain('<thread path="src/a.ts" line="12">');
    expect(line.prompt).toContain("This block deserves its own function.");
    expect(line.prompt).toContain('state="changes_requested"');
    // The first run's thread was seen by that run: not sent again.
    expect(line.prompt).not.toContain("Rename X to Y");
    expect(line.prompt).not.toContain("rename X");
    expect(await task(PR)).toMatchObject({ state: "pr-open", run: 2, result: { commits: 1 } });
    expect(await isAncestor(before, (await tip(cluster.origin.dir, BRANCH))!)).toBe(true);
    expect(github.pulls(REPO)).toHaveLength(1);
    await cluster.waitForGitHub("the tracking comment of run 2", async () => botComments(PR)[0]?.body.includes("run 2"), `${REPO}#${PR}`);
    expect(botComments(PR)).toHaveLength(1);
  }, 60_000);

  it("more runs for the delivery → Claude latency figure", async () => {
    for (const run of [3, 4, 5]) {
      const trigger = cluster.github.addComment(REPO, PR, `/claude run tweak ${run}`);
      const line = await runOnPr(
        "issue_comment",
        pullRequestCommentPayload(trigger.body, { number: PR, commentId: trigger.id, cloneUrl: cluster.origin.url }),
        run,
      );
      expect(line.branch).toBe(BRANCH);
      expect((await task(PR))?.state).toBe("pr-open");
    }
  }, 90_000);

  it("a push refused because someone pushed to the PR's branch meanwhile fails the task, saying the branch moved; nothing is overwritten", async () => {
    rmSync(release);
    const trigger = cluster.github.addComment(REPO, PR, "/claude run one more change");
    const before = runs().length;
    expect((await cluster.deliver("issue_comment", pullRequestCommentPayload(trigger.body, { number: PR, commentId: trigger.id }))).status).toBe(200);
    await waitFor("Claude on the PR branch", async () => runs()[before], 30_000);
    const theirs = await pushCommit(cluster.origin.dir, { branch: BRANCH, message: "A reviewer's own fix", files: { "REVIEWER.md": "fixed by hand\n" } });
    writeFileSync(release, "");
    const record = await waitFor("the failed task", async () => {
      const r = await task(PR);
      return r?.run === 6 && r.state === "failed" && r;
    });
    expect(record.failure).toMatchObject({ kind: "push" });
    expect(record.failure!.message).toMatch(/moved on origin while Claude worked.*nothing was overwritten/);
    expect(await tip(cluster.origin.dir, BRANCH)).toBe(theirs);
    await cluster.waitForGitHub("the failure on the tracking comment", async () => botComments(PR)[0]?.body.includes("moved on origin"), `${REPO}#${PR}`);
    expect(botComments(PR)).toHaveLength(1);
  }, 60_000);

  it("a PR from a fork is refused with a reply and nothing is queued", async () => {
    const { github } = cluster;
    const fork = github.addPull(REPO, { title: "Drive-by fix", head: "stranger:patch-1", headRepo: "stranger/hello", base: "main", body: "" });
    const trigger = github.addComment(REPO, fork.number, "/claude run fix the tests");
    expect((await cluster.deliver("issue_comment", pullRequestCommentPayload(trigger.body, { number: fork.number, commentId: trigger.id }))).status).toBe(200);
    const reply = await waitFor("the refusal", async () => botComments(fork.number)[0]);
    expect(reply.body).toMatch(/does not run on pull requests from forks/);
    expect(reply.body).toMatch(/credentials/);
    expect(await task(fork.number)).toBeUndefined();
    expect(botComments(fork.number)).toHaveLength(1);
  }, 30_000);

  it("closed and merged PRs are refused with a reply", async () => {
    const { github } = cluster;
    const closed = github.addPull(REPO, { title: "Old idea", head: "octo-org:old-idea", base: "main", body: "", state: "closed" });
    const trigger = github.addComment(REPO, closed.number, "/claude run revive it");
    expect((await cluster.deliver("issue_comment", pullRequestCommentPayload(trigger.body, { number: closed.number, commentId: trigger.id }))).status).toBe(
      200,
    );
    const reply = await waitFor("the refusal", async () => botComments(closed.number)[0]);
    expect(reply.body).toMatch(/closed: reopen it/);
    expect(await task(closed.number)).toBeUndefined();

    const merged = github.addPull(REPO, { title: "Done", head: "octo-org:done", base: "main", body: "", state: "closed", merged: true });
    const again = github.addComment(REPO, merged.number, "/claude run one more thing");
    expect((await cluster.deliver("issue_comment", pullRequestCommentPayload(again.body, { number: merged.number, commentId: again.id }))).status).toBe(200);
    expect((await waitFor("the refusal", async () => botComments(merged.number)[0])).body).toMatch(/is merged: Claude only works on open pull requests/);
    expect(await task(merged.number)).toBeUndefined();
  }, 30_000);

  it("a PR comment from a user without write access queues nothing and gets at most a reaction", async () => {
    const { github } = cluster;
    github.setRole("visitor", "read");
    const runBefore = (await task(PR))!.run;
    const reacted = (commentId: number) =>
      github.requests.some((r) => r.method === "POST" && r.path === `/repos/${REPO}/issues/comments/${commentId}/reactions`);
    const trigger = github.addComment(REPO, PR, "/claude run delete everything", { login: "visitor", type: "User" });
    const payload = pullRequestCommentPayload(trigger.body, { number: PR, commentId: trigger.id, sender: "visitor" });
    expect((await cluster.deliver("issue_comment", payload)).status).toBe(200);
    await waitFor("the reaction", async () => reacted(trigger.id));
    expect((await task(PR))!.run).toBe(runBefore);
    expect(botComments(PR)).toHaveLength(1);

    // Turned away before the pull request was even read: on a PR nothing else in the cluster
    // looks at (the reporter may still be reading the cluster's own PR after the last test).
    const other = github.addPull(REPO, { title: "A visitor's idea", head: "octo-org:visitor-idea", base: "main", body: "" });
    const second = github.addComment(REPO, other.number, "/claude run", { login: "visitor", type: "User" });
    const secondPayload = pullRequestCommentPayload(second.body, { number: other.number, commentId: second.id, sender: "visitor" });
    expect((await cluster.deliver("issue_comment", secondPayload)).status).toBe(200);
    await waitFor("the reaction on the other PR", async () => reacted(second.id));
    expect(github.requests.filter((r) => r.method === "GET" && r.path.startsWith(`/repos/${REPO}/pulls/${other.number}`))).toHaveLength(0);
    expect(await task(other.number)).toBeUndefined();
  }, 30_000);

  it("`/claude status` on the PR answers about the PR's task", async () => {
    const trigger = cluster.github.addComment(REPO, PR, "/claude status");
    expect((await cluster.deliver("issue_comment", pullRequestCommentPayload(trigger.body, { number: PR, commentId: trigger.id }))).status).toBe(200);
    const reply = await waitFor("the status reply", async () => botComments(PR).find((c) => c.body.startsWith("Claude task on this pull request")));
    expect(reply.body).toMatch(/\*\*failed\*\* \(run 6/);
  }, 30_000);

  it("closing the PR cancels Claude's live work on it, here a run scheduled for later; the issue's task takes the PR's fate", async () => {
    const trigger = cluster.github.addComment(REPO, PR, "/claude run in 2h tidy the wording");
    expect((await cluster.deliver("issue_comment", pullRequestCommentPayload(trigger.body, { number: PR, commentId: trigger.id }))).status).toBe(200);
    const scheduled = await waitFor("the scheduled PR task", async () => {
      const r = await task(PR);
      return r?.run === 7 && r.state === "queued" && r;
    });
    expect(scheduled.notBefore).toBeGreaterThan(Date.now() + 3_600_000);
    const job = `${cluster.prefix}:${scheduled.queue}:${scheduled.jobId}`;
    expect(await cluster.redis.exists(job)).toBe(1);
    expect((await cluster.deliver("pull_request", closedPullRequestPayload(PR, { merged: false, head: BRANCH }))).status).toBe(200);
    const cancelled = await waitFor("the cancelled PR task", async () => {
      const r = await task(PR);
      return r?.state === "cancelled" && r;
    });
    expect(cancelled.failure?.message).toBe("cancelled by @maintainer (pull request closed)");
    await waitFor("the issue's task closed with its PR", async () => (await task(7))?.state === "closed");
    // Its job is gone from the queue: nothing will run at the scheduled time.
    expect(await cluster.redis.exists(job)).toBe(0);
  }, 30_000);
});
