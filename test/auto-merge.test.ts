import { describe, expect, it } from "vitest";
import type { GitHubClient } from "../src/github/github-client.js";
import type { TaskRecord, TaskTests } from "../src/queue/task-record.js";
import { enableAutoMerge } from "../src/reporter/enable-auto-merge.js";
import { renderTrackingComment } from "../src/reporter/render-tracking-comment.js";
import { silentLogger } from "../src/shared/logger.js";

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const passed: TaskTests = { status: "passed", command: "npm test", exitCode: 0, timedOut: false, output: "", durationMs: 1, fixAttempts: 0 };

function record(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    taskId: "octo/hello#7",
    owner: "octo",
    repo: "hello",
    issueNumber: 7,
    installationId: 1,
    title: "Fix the login page",
    run: 1,
    state: "pr-open",
    specialty: "general",
    priority: "normal",
    reason: "label claude",
    branch: "claude/issue-7-fix-the-login-page",
    baseBranch: "main",
    queue: "tasks-general",
    jobId: "octo/hello#7@1",
    draftPullRequest: false,
    queuedAt: NOW - 90_000,
    prNumber: 8,
    version: 1,
    autoMerge: "squash",
    tests: passed,
    ...overrides,
  };
}

/** An Octokit whose `graphql` answers with `answer` (a throw when it is an error) and records its calls. */
function client(answer: unknown) {
  const calls: Array<{ query: string; variables: unknown }> = [];
  const octokit = {
    graphql: async (query: string, variables: unknown) => {
      calls.push({ query, variables });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as GitHubClient;
  return { octokit, calls };
}

/** Octokit's errors by shape: a RequestError carries a status and the response's headers. */
const requestError = (status: number, message: string, headers: Record<string, string> = {}) =>
  Object.assign(new Error(message), { status, response: { headers } });
/** Octokit's GraphqlResponseError: errors from a 200 answer, no status. */
const graphqlError = (message: string) =>
  Object.assign(new Error(`Request failed due to following response errors:\n - ${message}`), {
    name: "GraphqlResponseError",
    errors: [{ type: "UNPROCESSABLE", message }],
  });

describe("auto-merge on the task's pull request", () => {
  it("tests passed: asks GitHub once, with the PR's node id and the method in GraphQL's words", async () => {
    const { octokit, calls } = client({ enablePullRequestAutoMerge: { pullRequest: { number: 8 } } });
    expect(await enableAutoMerge(octokit, record(), "PR_node8", silentLogger)).toEqual({ status: "enabled" });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.query).toContain("enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod })");
    expect(calls[0]!.variables).toEqual({ pullRequestId: "PR_node8", mergeMethod: "SQUASH" });
  });

  it.each<[string, Partial<TaskRecord>, string]>([
    ["failing tests", { tests: { ...passed, status: "failed", exitCode: 1 } }, "the tests fail"],
    ["no test command", { tests: { status: "none" } }, "the repository configures no test command"],
    ["refused by the agent's owner", { tests: { status: "refused", command: "npm test" } }, "the agent's owner does not allow the test command to run"],
    ["a self-hosted runner", { tests: { status: "runner" } }, "a self-hosted runner does not run the test command"],
  ])("%s: never asks GitHub, and says why", async (_what, overrides, message) => {
    const { octokit, calls } = client({});
    expect(await enableAutoMerge(octokit, record(overrides), "PR_node8", silentLogger)).toEqual({ status: "skipped", message });
    expect(calls).toEqual([]);
  });

  it("merge: manual (no autoMerge on the record): nothing asked, nothing to say", async () => {
    const { octokit, calls } = client({});
    expect(await enableAutoMerge(octokit, record({ autoMerge: undefined }), "PR_node8", silentLogger)).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it.each([
    ["a GraphQL error: auto-merge not allowed", graphqlError("Auto merge is not allowed for this repository"), "Auto merge is not allowed for this repository"],
    ["a GraphQL error: no branch protection", graphqlError("Pull request is in clean status"), "Pull request is in clean status"],
    ["403 without a rate limit: no permission", requestError(403, "Resource not accessible by integration"), "Resource not accessible by integration"],
    ["422", requestError(422, "Validation Failed"), "Validation Failed"],
  ])("GitHub refusing for good (%s) is the outcome, not an error to retry", async (_what, error, message) => {
    const { octokit } = client(error);
    expect(await enableAutoMerge(octokit, record(), "PR_node8", silentLogger)).toEqual({ status: "refused", message });
  });

  it.each([
    ["GitHub down", requestError(502, "Bad Gateway")],
    ["no answer", Object.assign(new Error("connect ECONNREFUSED"), {})],
    [
      "rate limited",
      requestError(403, "API rate limit exceeded", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 60) }),
    ],
  ])("%s: thrown, so the event tries again later", async (_what, error) => {
    const { octokit } = client(error);
    await expect(enableAutoMerge(octokit, record(), "PR_node8", silentLogger)).rejects.toBe(error);
  });
});

describe("the tracking comment's auto-merge line", () => {
  it.each<[TaskRecord["autoMergeOutcome"], string]>([
    [{ status: "enabled" }, "**Auto-merge** enabled (squash): GitHub merges the pull request once the base branch's required checks and reviews pass"],
    [{ status: "skipped", message: "the tests fail" }, "**Auto-merge** not enabled: the tests fail; merge by hand when the pull request is ready"],
    [
      { status: "refused", message: "Pull request is in clean status" },
      "⚠️ **Auto-merge could not be enabled**: GitHub answered “Pull request is in clean status”. Allow auto-merge in the repository's settings",
    ],
  ])("%j", (autoMergeOutcome, line) => {
    expect(renderTrackingComment(record({ autoMergeOutcome }), NOW)).toContain(line);
  });

  it("says nothing when the repository did not ask", () => {
    expect(renderTrackingComment(record({ autoMerge: undefined }), NOW)).not.toContain("Auto-merge");
  });
});
