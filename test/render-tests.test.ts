import { describe, expect, it } from "vitest";
import type { TaskRecord, TaskTests } from "../src/queue/task-record.js";
import { renderPullRequestBody } from "../src/reporter/render-pull-request-body.js";
import { renderTrackingComment } from "../src/reporter/render-tracking-comment.js";

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

function record(tests: TaskTests | undefined, overrides: Partial<TaskRecord> = {}): TaskRecord {
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
    startedAt: NOW - 60_000,
    finishedAt: NOW,
    agent: "pc-2",
    prNumber: 8,
    result: { summary: "Fixed the form validation.", costUsd: 0.12, turns: 8, durationMs: 184_000, commits: 2 },
    version: 1,
    ...(tests ? { tests } : {}),
    ...overrides,
  };
}

const ran = { command: "npm test", timedOut: false, durationMs: 12_000, fixAttempts: 0 };
const passed: TaskTests = { status: "passed", exitCode: 0, output: "Tests  5 passed (5)", ...ran };
const failing: TaskTests = { status: "failed", exitCode: 1, output: "FAIL src/a.test.ts\nexpected 2, got 1", ...ran, fixAttempts: 1 };

describe("the pull request body's tests section", () => {
  const rows: Array<{ name: string; tests: TaskTests | undefined; has: string[]; hasNot?: string[] }> = [
    {
      name: "passing: the command, exit code 0 and its last lines, folded",
      tests: passed,
      has: ["**Tests** ✅ `npm test` passed (exit code 0, 12s)", "<details><summary>Last lines of its output</summary>", "```text\nTests  5 passed (5)\n```"],
      hasNot: ["fail"],
    },
    {
      name: "passing after a fix says Claude was given the output",
      tests: { ...passed, fixAttempts: 1 },
      has: ["passed (exit code 0, 12s, after Claude was given the failing output once)"],
    },
    {
      name: "failing: said first and in bold, with the exit code and the output in the open",
      tests: failing,
      has: [
        "**Tests** ❌ **The tests fail**: `npm test` exited with code 1, after Claude was given the failing output once.",
        "do not merge before the tests pass",
        "Last lines of its output:\n\n```text\nFAIL src/a.test.ts\nexpected 2, got 1\n```",
      ],
      hasNot: ["<details>"],
    },
    {
      name: "timed out",
      tests: { ...failing, exitCode: null, timedOut: true, fixAttempts: 0 },
      has: ["**The tests fail**: `npm test` was stopped at its time limit."],
    },
    {
      name: "none configured",
      tests: { status: "none" },
      has: ["**Tests**: none configured. The repository's `.github/claude-cluster.yml` names no `test` command"],
    },
    {
      name: "refused by the agent's owner",
      tests: { status: "refused", command: "make check" },
      has: [
        "**Tests**: not run. The repository's test command is `make check`, but the agent's owner does not allow repository commands on `pc-2` (`--test-commands refuse`).",
      ],
    },
    {
      name: "a self-hosted runner",
      tests: { status: "runner" },
      has: ["**Tests**: not run. Self-hosted runner mode does not run the repository's test command"],
    },
    {
      name: "a record without a test result (an older agent) shows no section",
      tests: undefined,
      has: ["Closes #7\n\n---"],
      hasNot: ["**Tests**"],
    },
  ];

  it.each(rows)("$name", ({ tests, has, hasNot }) => {
    const body = renderPullRequestBody(record(tests));
    for (const text of has) expect(body).toContain(text);
    for (const text of hasNot ?? []) expect(body).not.toContain(text);
    // Between the closing keyword and the figures.
    expect(body.indexOf("Closes #7")).toBeLessThan(body.indexOf("---"));
    if (tests) expect(body.indexOf("Tests")).toBeGreaterThan(body.indexOf("Closes #7"));
  });

  it("output with backticks, a secret, a mention and an outside image stays inert inside its block", () => {
    const output = "```\n@octo-org/admins ![](https://evil.example/x.png) ghp_000000000000000000000000000000000000\n````";
    const body = renderPullRequestBody(record({ ...failing, output }));
    expect(body).toContain("`````text\n```\n@octo-org/admins ![](https://evil.example/x.png) [redacted]\n````\n`````");
    expect(body).not.toContain("ghp_0000");
    // The block closes: the figures after it are not code.
    expect(body).toMatch(/`````\n\n---\n\n\*\*Agent\*\*/);
  });

  it("a command with a secret in it is redacted", () => {
    const body = renderPullRequestBody(record({ ...passed, command: "TOKEN=ghp_000000000000000000000000000000000000 npm test" }));
    expect(body).not.toContain("ghp_0000");
  });
});

describe("the tracking comment's tests line", () => {
  it.each([
    [passed, "**Tests** ✅ `npm test` passed"],
    [failing, "⚠️ **Tests fail**: `npm test` exited with code 1, after Claude was given the failing output once; the pull request shows its output"],
    [{ status: "refused", command: "npm test" } as TaskTests, "**Tests** not run: the agent's owner does not allow repository commands (`npm test`)"],
    [{ status: "runner" } as TaskTests, "**Tests** not run: self-hosted runner mode does not run the repository's test command"],
  ])("%j", (tests, line) => {
    expect(renderTrackingComment(record(tests), NOW)).toContain(line);
  });

  it("says nothing when none is configured or none was recorded", () => {
    expect(renderTrackingComment(record({ status: "none" }), NOW)).not.toContain("Tests");
    expect(renderTrackingComment(record(undefined), NOW)).not.toContain("Tests");
  });
});
