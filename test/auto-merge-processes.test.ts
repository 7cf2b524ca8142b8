import { beforeAll, describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { pullNodeId } from "./helpers/fake-github/graphql-routes.js";

const REPO = "octo-org/hello";
const CONFIG = ".github/claude-cluster.yml";

describe("merge: auto, through the app and agent processes", () => {
  // Each test sets its own config: the app reads it afresh for every task.
  const cluster = useCluster({ env: { CCC_CONFIG_CACHE_SECONDS: "0" } });
  beforeAll(async () => {
    await cluster.startAgent({ name: "merger" });
  }, 30_000);

  const pullOf = (number: number) => cluster.github.pulls(REPO).find((pull) => pull.head.includes(`claude/issue-${number}-`));
  const trackingComment = (number: number) => cluster.github.comments(REPO, number).find((c) => c.user.type === "Bot")?.body ?? "";
  /** The GraphQL mutations made for issue `number`'s pull request (found by the node id the fake gave it). */
  const mutationsFor = (number: number) => {
    const id = pullNodeId(REPO, pullOf(number)!.number);
    return cluster.github.mutations().filter((m) => m.variables.pullRequestId === id);
  };

  const runIssue = async (number: number, title: string, config: string): Promise<TaskRecord> => {
    cluster.github.setFile(REPO, CONFIG, config);
    expect((await cluster.deliver("issues", labeledPayload("claude", { number, title, cloneUrl: cluster.origin.url }))).status).toBe(200);
    return waitFor(
      `issue #${number}'s pull request`,
      async () => {
        const record = await cluster.store.get(`${REPO}#${number}`);
        if (record?.state === "failed") throw new Error(`task failed: ${record.failure?.message}`);
        return record?.state === "pr-open" && record;
      },
      60_000,
    );
  };

  it("once the task's tests passed, the reporter enables GitHub's auto-merge on the PR it opened, with the repository's method", async () => {
    const record = await runIssue(31, "Merge me", "test: 'true'\nmerge: auto\nmergeMethod: squash\n");

    expect(record).toMatchObject({ autoMerge: "squash", tests: { status: "passed" }, autoMergeOutcome: { status: "enabled" } });
    const pull = pullOf(31)!;
    expect(mutationsFor(31)).toEqual([
      { name: "enablePullRequestAutoMerge", variables: { pullRequestId: pullNodeId(REPO, pull.number), mergeMethod: "SQUASH" } },
    ]);
    // Asked for, not merged: branch protection decides; no merge call is ever made.
    expect(pull.autoMerge).toEqual({ mergeMethod: "SQUASH" });
    expect(pull.state).toBe("open");
    expect(cluster.github.requests.filter((r) => r.method === "PUT" && /\/merge$/.test(r.path))).toEqual([]);
    await cluster.waitForGitHub("auto-merge on the issue", async () => trackingComment(31).includes("**Auto-merge** enabled (squash)"), `${REPO}#31`);
  }, 90_000);

  it("tests failing: no auto-merge is asked for, and the issue says why", async () => {
    const record = await runIssue(32, "Do not merge me", "test: { command: 'exit 1', fixAttempts: 0 }\nmerge: auto\n");

    expect(record).toMatchObject({ tests: { status: "failed" }, autoMergeOutcome: { status: "skipped", message: "the tests fail" } });
    expect(mutationsFor(32)).toEqual([]);
    await cluster.waitForGitHub("why not on the issue", async () => trackingComment(32).includes("**Auto-merge** not enabled: the tests fail"), `${REPO}#32`);
  }, 90_000);

  it("GitHub refusing auto-merge (no branch protection: clean status) is said on the issue; the PR stays open, nothing retried or failed", async () => {
    cluster.github.refuseAutoMerge(REPO, "Pull request is in clean status");
    try {
      const record = await runIssue(33, "Clean status", "test: 'true'\nmerge: auto\n");

      expect(record.autoMergeOutcome).toEqual({ status: "refused", message: "Pull request is in clean status" });
      await cluster.waitForGitHub(
        "GitHub's refusal on the issue",
        async () => trackingComment(33).includes("⚠️ **Auto-merge could not be enabled**: GitHub answered “Pull request is in clean status”"),
        `${REPO}#33`,
      );
      expect(mutationsFor(33)).toHaveLength(1);
      expect(pullOf(33)!.state).toBe("open");
      expect((await cluster.eventCounts()).failed).toBe(0);
    } finally {
      cluster.github.refuseAutoMerge(REPO, undefined);
    }
  }, 90_000);

  it("GitHub down when auto-merge is asked for: the event tries again, the same PR gets it, and the task is pr-open only then", async () => {
    cluster.github.failNext("POST", /graphql$/, { status: 502, body: { message: "Bad Gateway" } });
    const record = await runIssue(35, "Merge me after an outage", "test: 'true'\nmerge: auto\n");

    expect(record.autoMergeOutcome).toEqual({ status: "enabled" });
    expect(cluster.github.pulls(REPO).filter((pull) => pull.head.includes("claude/issue-35-"))).toHaveLength(1);
    // The failed request and the one that went through.
    expect(
      cluster.github.requests
        .filter((r) => /graphql$/.test(r.path) && r.body.variables?.pullRequestId === pullNodeId(REPO, pullOf(35)!.number))
        .map((r) => r.status),
    ).toEqual([502, 200]);
    expect(pullOf(35)!.autoMerge).toEqual({ mergeMethod: "MERGE" });
  }, 90_000);

  it("merge: manual (the default), tests passing: no GraphQL call", async () => {
    const record = await runIssue(34, "Leave me", "test: 'true'\n");
    expect(record.autoMergeOutcome).toBeUndefined();
    expect(mutationsFor(34)).toEqual([]);
  }, 90_000);
});
