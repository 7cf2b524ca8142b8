import { afterAll, describe, expect, it } from "vitest";
import { nextLookDelay } from "../src/app/ci/ci-watcher.js";
import { camelCaseKeys } from "../src/config/camel-case-keys.js";
import { parseRepoConfig } from "../src/config/parse-repo-config.js";
import { cleanJobLog } from "../src/github/clean-job-log.js";
import { judgeChecks, type CheckRunState, type CommitStatusState } from "../src/github/judge-checks.js";
import { renderCiGaveUp } from "../src/reporter/render-ci-gave-up.js";
import { describePrCi } from "../src/queue/describe-pr-ci.js";
import { pullRequestReport } from "../src/ops/pull-request-report.js";
import type { PullRequestFate } from "../src/store/pull-request-fates.js";
import type { TaskPrCi } from "../src/queue/task-record.js";
import { PullRequestChecks } from "../src/store/pull-request-checks.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const run = (name: string, status: string, conclusion: string | null): CheckRunState => ({ id: 1, name, status, conclusion, output: {} });
const status = (context: string, state: string): CommitStatusState => ({ context, state });

describe("judgeChecks: whether a commit's checks settled, and what failed", () => {
  it.each<[string, CheckRunState[], CommitStatusState[], string, string[]?]>([
    ["no checks at all", [], [], "none"],
    ["every run passed", [run("test", "completed", "success"), run("lint", "completed", "skipped")], [status("ci/x", "success")], "green"],
    ["a run still going", [run("test", "in_progress", null), run("lint", "completed", "failure")], [], "pending", ["test"]],
    ["a queued run", [run("test", "queued", null)], [], "pending", ["test"]],
    ["a pending status", [run("test", "completed", "success")], [status("ci/jenkins", "pending")], "pending", ["ci/jenkins"]],
    ["a failed run", [run("test", "completed", "failure"), run("lint", "completed", "success")], [], "red", ["test"]],
    ["a timed-out run", [run("e2e", "completed", "timed_out")], [], "red", ["e2e"]],
    ["a failed status", [run("test", "completed", "success")], [status("ci/jenkins", "error")], "red", ["ci/jenkins"]],
    ["a cancelled run is not a failure (superseded, or stopped by a person)", [run("test", "completed", "cancelled")], [], "green"],
    ["neutral and stale runs are not failures", [run("a", "completed", "neutral"), run("b", "completed", "stale")], [], "green"],
  ])("%s", (_name, runs, statuses, kind, names) => {
    const verdict = judgeChecks(runs, statuses);
    expect(verdict.kind).toBe(kind);
    if (verdict.kind === "pending") expect(verdict.waitingOn).toEqual(names);
    if (verdict.kind === "red") expect([...verdict.failedRuns.map((r) => r.name), ...verdict.failedStatuses.map((s) => s.context)]).toEqual(names);
  });
});

describe("cleanJobLog: a job log's tail as a person reads it", () => {
  it("strips the runner's timestamps, colour codes, redraws and group markers", () => {
    const raw = [
      "\uFEFF2026-12-07T10:00:00.1234567Z ##[group]Run npm test",
      "2026-12-07T10:00:00.2Z \u001b[1m\u001b[31mFAIL\u001b[0m a.test.ts",
      "2026-12-07T10:00:00.3Z progress 10%\rprogress 50%\rprogress 100%",
      "2026-12-07T10:00:00.4Z ##[endgroup]",
      "2026-12-07T10:00:00.5Z ##[error]Process completed with exit code 1.",
      "",
    ].join("\r\n");
    expect(cleanJobLog(raw)).toBe("Run npm test\nFAIL a.test.ts\nprogress 100%\nError: Process completed with exit code 1.");
  });

  it("keeps the last lines, within the line and character caps", () => {
    const raw = Array.from({ length: 500 }, (_, i) => `line ${i}`).join("\n");
    expect(cleanJobLog(raw, { lines: 3 })).toBe("line 497\nline 498\nline 499");
    const cut = cleanJobLog(raw, { lines: 500, chars: 30 });
    expect(cut.length).toBeLessThanOrEqual(30);
    expect(cut.endsWith("line 499")).toBe(true);
    // Never half a line at the top.
    expect(cut.split("\n")[0]).toMatch(/^line \d+$/);
  });

  it("redacts secrets the job printed", () => {
    const token = "ghs_" + "abcdefghijklmnopqrstuvwxyz0123456789";
    expect(cleanJobLog(`2026-12-07T10:00:00Z token=${token}`)).toBe("token=[redacted]");
  });
});

describe("the repository config in either spelling", () => {
  it("reads snake_case keys as the camelCase the schema names", () => {
    expect(camelCaseKeys({ ci_fix_attempts: 2, max_turns: 5, labels: { my_label: "backend" } }, new Set(["labels"]))).toEqual({
      ok: true,
      value: { ciFixAttempts: 2, maxTurns: 5, labels: { my_label: "backend" } },
    });
  });

  it("parses ci_fix_attempts, defaults it to 3 and refuses a key given twice", () => {
    expect(parseRepoConfig("ci_fix_attempts: 0\n")).toMatchObject({ ok: true, config: { ciFixAttempts: 0 } });
    expect(parseRepoConfig("ciFixAttempts: 5\n")).toMatchObject({ ok: true, config: { ciFixAttempts: 5 } });
    expect(parseRepoConfig("maxTurns: 10\n")).toMatchObject({ ok: true, config: { ciFixAttempts: 3 } });
    expect(parseRepoConfig("ci_fix_attempts: 1\nciFixAttempts: 2\n")).toEqual({
      ok: false,
      problems: [{ field: "ciFixAttempts", message: expect.stringMatching(/given twice/) }],
    });
    expect(parseRepoConfig("ci_fix_attempts: -1\n")).toMatchObject({ ok: false, problems: [{ field: "ciFixAttempts" }] });
  });

  it("leaves label names and specialties as the repository wrote them", () => {
    expect(parseRepoConfig("labels:\n  needs_ui: frontend\nroles:\n  backend: Use the service layer.\n")).toMatchObject({
      ok: true,
      config: { labels: { needs_ui: "frontend" }, roles: { backend: "Use the service layer." } },
    });
  });
});

describe("nextLookDelay: looking again at checks that still run", () => {
  it.each([
    [0, 20_000, 20_000],
    [30_000, 20_000, 20_000],
    [120_000, 20_000, 60_000],
    [3_600_000, 20_000, 300_000],
  ])("after %i ms with a %i ms settle time, looks again in %i ms", (waited, settle, expected) => {
    expect(nextLookDelay(waited, settle)).toBe(expected);
  });
});

describe("renderCiGaveUp: the one comment when the attempts run out", () => {
  it("names the checks and the last error as inert text: no mentions, no secrets, no markup", () => {
    const body = renderCiGaveUp({ owner: "octo-org", repo: "hello", number: 8 }, 3, [
      {
        name: "unit-tests",
        conclusion: "failure",
        annotations: [{ path: "a.ts", line: 3, level: "failure", message: "@octo-org/admins see ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 <img src=x>" }],
      },
      { name: "lint", conclusion: "failure", annotations: [] },
    ]);
    expect(body).toContain("`unit-tests`, `lint` still fail after 3 attempts");
    expect(body).toContain("a.ts:3");
    expect(body).not.toContain("ghp_A1b2");
    expect(body).not.toMatch(/(^|[^\u200b])@octo-org/);
    expect(body).not.toContain("<img");
    expect(body).toContain("`claude:ci-failed`");
  });
});

describe("PullRequestChecks on Redis: one CI fix per red head commit, bounded per pull request", () => {
  const redis = connectRedis();
  const prefix = randomPrefix();
  const checks = new PullRequestChecks(redis, prefix);
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });
  const claim = (sha: string, asked = false) => checks.claimFix("o", "r", 8, sha, { maxAttempts: 2, asked, failing: ["test"], at: 1 });

  it("knows the commits the cluster pushed, and only those", async () => {
    await checks.notePush("o", "r", 8, "aaa", 1);
    expect(await checks.pullRequestOf("o", "r", "aaa")).toBe(8);
    expect(await checks.pullRequestOf("o", "r", "bbb")).toBeUndefined();
    expect(await checks.get("o", "r", 8)).toMatchObject({ headSha: "aaa", state: "pending", attempts: 0, fixRuns: 0 });
  });

  it("counts attempts per pull request, one per commit, gives up once, and starts again when asked or green", async () => {
    expect(await claim("aaa")).toEqual({ kind: "claimed", attempt: 1 });
    expect(await claim("aaa")).toEqual({ kind: "duplicate" });
    expect(await claim("bbb")).toEqual({ kind: "claimed", attempt: 2 });
    expect(await claim("ccc")).toEqual({ kind: "gave-up", attempts: 2 });
    expect(await claim("ccc")).toEqual({ kind: "duplicate" });
    expect(await claim("ddd")).toEqual({ kind: "duplicate" });
    expect(await checks.get("o", "r", 8)).toMatchObject({ state: "gave-up", attempts: 2, fixRuns: 2 });
    expect(await claim("ddd", true)).toEqual({ kind: "claimed", attempt: 1 });
    await checks.settled("o", "r", 8, "green", [], 2);
    expect(await checks.get("o", "r", 8)).toMatchObject({ state: "green", attempts: 0, fixRuns: 3 });
    expect(await claim("eee")).toEqual({ kind: "claimed", attempt: 1 });
  });

  it("gives a claimed attempt back when it could not be queued", async () => {
    expect(await claim("fff")).toEqual({ kind: "claimed", attempt: 2 });
    await checks.unclaim("o", "r", 8, 3);
    expect(await checks.get("o", "r", 8)).toMatchObject({ state: "red", attempts: 1 });
    expect(await claim("fff")).toEqual({ kind: "claimed", attempt: 2 });
  });
});

describe("describePrCi: where a pull request stands, in one line", () => {
  it.each<[string, TaskPrCi, string]>([
    ["checks running", { state: "pending", failing: [], attempts: 0 }, "CI running"],
    ["green and merging cleanly", { state: "green", failing: [], attempts: 0, conflict: "clean" }, "CI green · merges cleanly"],
    ["red, fixes off", { state: "red", failing: ["unit-tests"], attempts: 0 }, "CI red: unit-tests"],
    [
      "a fix under way",
      { state: "fixing", failing: ["unit-tests", "lint"], attempts: 1, maxAttempts: 3 },
      "CI red: unit-tests, lint; Claude is fixing it, attempt 1 of 3",
    ],
    ["given up", { state: "gave-up", failing: ["e2e"], attempts: 3, maxAttempts: 3 }, "CI red: e2e; Claude gave up after 3 attempts"],
    [
      "a conflict being merged",
      { state: "green", failing: [], attempts: 0, conflict: "resolving", conflictAttempts: 2, conflictMaxAttempts: 3 },
      "CI green · conflicts with its base; Claude is merging it, attempt 2 of 3",
    ],
  ])("%s", (_name, ci, text) => {
    expect(describePrCi(ci)).toBe(text);
  });
});

describe("pullRequestReport: what the PR-to-merge loop did for the merged pull requests", () => {
  const fate = (outcome: "merged" | "closed", extra: Partial<PullRequestFate>): PullRequestFate => ({
    pr: `o/r#${Math.random()}`,
    taskId: "o/r#1",
    outcome,
    specialty: "general",
    agent: "a",
    account: "x",
    openedAt: 0,
    at: 1,
    costUsd: 1,
    ...extra,
  });

  it("counts CI-fix and conflict runs per merged PR and the share merged with no person's commit, over the fates that count them", () => {
    const report = pullRequestReport([
      fate("merged", { ciFixRuns: 2, conflictRuns: 1, humanCommits: false }),
      fate("merged", { ciFixRuns: 0, conflictRuns: 0, humanCommits: true }),
      fate("merged", {}),
      fate("closed", { ciFixRuns: 3, conflictRuns: 0, humanCommits: false }),
    ]).total;
    expect(report).toMatchObject({ merged: 3, ciFixRunsPerMerged: 1, conflictRunsPerMerged: 0.5, mergedWithoutHumanCommitShare: 0.5 });
  });
});
