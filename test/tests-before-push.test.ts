import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { tip } from "./helpers/git-origin.js";
import { labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";
const CONFIG = ".github/claude-cluster.yml";

/** Running and not a zombie (where PID 1 never reaps orphans a killed one stays `Z`). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

interface ClaudeRun {
  argv: string[];
  cwd: string;
  prompt: string;
}

describe("the repository's test command before the push, through the app and agent processes", () => {
  // Each test sets its own config: the app reads it afresh for every task.
  const cluster = useCluster({ env: { CCC_CONFIG_CACHE_SECONDS: "0" } });
  const scratch = mkdtempSync(join(tmpdir(), "ccc-tests-before-push-"));
  const argsLog = join(scratch, "claude-runs.jsonl");
  const scenarioFile = join(scratch, "scenario");
  const resetFile = join(scratch, "reset");
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  let tester: AgentProcess | undefined;
  beforeAll(async () => {
    tester = await cluster.startAgent({
      name: "tester",
      // A test switches Claude's scenario (a usage limit mid-fix) through these files; absent, Claude edits.
      env: { FAKE_CLAUDE_ARGS_LOG: argsLog, FAKE_CLAUDE_SCENARIO_FILE: scenarioFile, FAKE_CLAUDE_RESET_FILE: resetFile, CCC_USAGE_RESET_MARGIN_SECONDS: "0" },
    });
  }, 30_000);

  /** Claude's runs on issue `number`'s worktree (not the login probe), oldest first. */
  const claudeRuns = (number: number): ClaudeRun[] =>
    existsSync(argsLog)
      ? readFileSync(argsLog, "utf8")
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.parse(line) as ClaudeRun)
          .filter((run) => new RegExp(`/issue-${number}-[0-9a-f]+$`).test(run.cwd))
      : [];
  const pullOf = (number: number) => cluster.github.pulls(REPO).find((pull) => pull.head.includes(`claude/issue-${number}-`));
  const trackingComment = (number: number) => cluster.github.comments(REPO, number).find((c) => c.user.type === "Bot")?.body ?? "";

  /** Labels issue `number` with the repository's config set to `config`; resolves with its task once the PR is open. */
  const runIssue = async (number: number, title: string, config: string, timeoutMs = 60_000): Promise<TaskRecord> => {
    cluster.github.setFile(REPO, CONFIG, config);
    expect((await cluster.deliver("issues", labeledPayload("claude", { number, title, cloneUrl: cluster.origin.url }))).status).toBe(200);
    return waitFor(
      `issue #${number}'s pull request`,
      async () => {
        const record = await cluster.store.get(`${REPO}#${number}`);
        if (record?.state === "failed") throw new Error(`task failed: ${record.failure?.message}`);
        return record?.state === "pr-open" && record;
      },
      timeoutMs,
    );
  };

  it("passing tests: the agent runs the command in the worktree before the push, and the PR shows it with exit code 0", async () => {
    const record = await runIssue(21, "Note the release", "test: grep -c '^- change' CLAUDE_CHANGE.md && echo 'all 1 tests passed'\n");

    expect(record.tests).toMatchObject({
      status: "passed",
      command: "grep -c '^- change' CLAUDE_CHANGE.md && echo 'all 1 tests passed'",
      exitCode: 0,
      fixAttempts: 0,
    });
    // The command saw Claude's change: it ran in the task's worktree, after Claude.
    expect(record.tests?.status === "passed" && record.tests.output).toBe("1\nall 1 tests passed");
    expect(claudeRuns(21)).toHaveLength(1);
    const body = await cluster.waitForGitHub("the PR", async () => pullOf(21)?.body, `${REPO}#21`);
    expect(body).toContain("**Tests** ✅ `grep -c '^- change' CLAUDE_CHANGE.md && echo 'all 1 tests passed'` passed (exit code 0");
    expect(body).toContain("1\nall 1 tests passed\n```");
    await cluster.waitForGitHub("the tests line on the issue", async () => trackingComment(21).includes("**Tests** ✅"), `${REPO}#21`);
    // merge: manual by default: no auto-merge asked for.
    expect(cluster.github.mutations()).toEqual([]);
  }, 90_000);

  it("failing tests go back to Claude's session with their output; fixed, they pass before the push and the PR opens", async () => {
    // Passes once Claude has made two changes: its first run makes one.
    const test = `c=$(grep -c '^- change' CLAUDE_CHANGE.md); echo "expected 2 changes, found $c" >&2; test "$c" -ge 2`;
    const record = await runIssue(22, "Record two changes", `test:\n  command: ${JSON.stringify(test)}\n  fixAttempts: 1\n`);

    const runs = claudeRuns(22);
    expect(runs).toHaveLength(2);
    // The second run resumes the first's session, with the failing command and its output.
    expect(runs[0]!.argv).not.toContain("--resume");
    expect(runs[1]!.argv).toContain("--resume");
    expect(runs[1]!.prompt).toContain("exited with code 1");
    expect(runs[1]!.prompt).toContain("<test-output>\nexpected 2 changes, found 1\n</test-output>");
    expect(record.tests).toMatchObject({ status: "passed", exitCode: 0, fixAttempts: 1, output: "expected 2 changes, found 2" });
    expect(record.result?.commits).toBe(2);
    const body = await cluster.waitForGitHub("the PR", async () => pullOf(22)?.body, `${REPO}#22`);
    expect(body).toContain("passed (exit code 0");
    expect(body).toContain("after Claude was given the failing output once");
  }, 90_000);

  it("a fix whose Claude session is gone runs afresh, with the whole task and the failing output, in the same worktree", async () => {
    // Failing, the tests also wipe the fake CLI's sessions, kept in the worktree's git directory.
    const test = `c=$(grep -c '^- change' CLAUDE_CHANGE.md); test "$c" -ge 2 || { rm -rf "$(git rev-parse --absolute-git-dir)/fake-claude-sessions"; echo "found $c"; exit 1; }`;
    const record = await runIssue(28, "Lose the session", `test: ${JSON.stringify(test)}\n`);

    const runs = claudeRuns(28);
    expect(runs).toHaveLength(3);
    expect(runs[1]!.argv).toContain("--resume");
    expect(runs[2]!.argv).not.toContain("--resume");
    expect(runs[2]!.prompt).toContain("Lose the session");
    expect(runs[2]!.prompt).toContain("<test-output>\nfound 1\n</test-output>");
    expect(record.tests).toMatchObject({ status: "passed", fixAttempts: 1 });
  }, 90_000);

  it("a fix run that hits the usage limit pushes nothing: the task waits for the reset, then resumes the session, fixes, and the tests pass before the push", async () => {
    writeFileSync(resetFile, String(Math.floor(Date.now() / 1000) + 5));
    // Failing, the tests also make Claude's next run hit the usage limit, and only that one.
    const test = `c=$(grep -c '^- change' CLAUDE_CHANGE.md); test "$c" -ge 2 || { echo usage-limit-once > ${scenarioFile}; echo "found $c"; exit 1; }`;
    cluster.github.setFile(REPO, CONFIG, `test: ${JSON.stringify(test)}\n`);
    const branchBefore = await tip(cluster.origin.dir, "claude/issue-27-wait-for-the-reset");
    expect((await cluster.deliver("issues", labeledPayload("claude", { number: 27, title: "Wait for the reset", cloneUrl: cluster.origin.url }))).status).toBe(
      200,
    );
    const waiting = await waitFor("the task to wait for the usage limit", async () => {
      const record = await cluster.store.get(`${REPO}#27`);
      return record?.state === "waiting" && record;
    });
    expect(waiting.waitingFor).toContain("usage limit");
    // Nothing pushed while the fix is unfinished.
    expect(await tip(cluster.origin.dir, "claude/issue-27-wait-for-the-reset")).toBe(branchBefore);
    const record = await waitFor(
      "issue #27's pull request",
      async () => {
        const found = await cluster.store.get(`${REPO}#27`);
        return found?.state === "pr-open" && found;
      },
      60_000,
    );

    const runs = claudeRuns(27);
    expect(runs).toHaveLength(3);
    expect(runs[1]!.prompt).toContain("<test-output>\nfound 1\n</test-output>");
    // The attempt after the reset continues the same session.
    expect(runs[2]!.argv).toContain("--resume");
    expect(record.tests).toMatchObject({ status: "passed", exitCode: 0 });
  }, 90_000);

  it("tests still failing after the last fix: the branch is pushed and the PR opens all the same, saying clearly that the tests fail", async () => {
    const test = "echo 'FAIL src/a.test.ts: expected 2, got 1'; exit 3";
    const record = await runIssue(23, "Break the build", `test: ${JSON.stringify(test)}\n`);

    expect(claudeRuns(23)).toHaveLength(2);
    expect(record.tests).toMatchObject({ status: "failed", exitCode: 3, fixAttempts: 1, output: "FAIL src/a.test.ts: expected 2, got 1" });
    const body = await cluster.waitForGitHub("the PR", async () => pullOf(23)?.body, `${REPO}#23`);
    expect(body).toContain("**Tests** ❌ **The tests fail**: `echo 'FAIL src/a.test.ts: expected 2, got 1'; exit 3` exited with code 3");
    expect(body).toContain("```text\nFAIL src/a.test.ts: expected 2, got 1\n```");
    await cluster.waitForGitHub(
      "the failing tests on the issue",
      async () => trackingComment(23).includes("⚠️ **Tests fail**: `echo 'FAIL src/a.test.ts: expected 2, got 1'; exit 3` exited with code 3"),
      `${REPO}#23`,
    );
  }, 90_000);

  it("a test command past its time limit is killed with everything it started; the PR says the tests fail", async () => {
    const pids = join(scratch, "server.pid");
    // A test run that starts a server in the background and never ends; the shortest limit is a minute.
    const test = `sleep 600 & echo $! > ${pids}; echo 'server up'; sleep 600`;
    const done = runIssue(26, "Slow tests", `test: { command: ${JSON.stringify(test)}, timeoutMinutes: 1, fixAttempts: 0 }\n`, 120_000);
    // While it runs, the issue says what the task is doing: the tests, not Claude's last tool.
    await cluster.waitForGitHub(
      "the running test command on the issue",
      async () => trackingComment(26).includes("now `test command: sleep 600 &"),
      `${REPO}#26`,
    );
    const record = await done;

    expect(record.tests).toMatchObject({ status: "failed", exitCode: null, timedOut: true, output: "server up" });
    const server = Number(readFileSync(pids, "utf8"));
    expect(server).toBeGreaterThan(0);
    expect(isRunning(server)).toBe(false);
    const body = await cluster.waitForGitHub("the PR", async () => pullOf(26)?.body, `${REPO}#26`);
    expect(body).toContain("was stopped at its time limit");
  }, 150_000);

  it("without a test command the PR says none was configured", async () => {
    await runIssue(24, "Plain change", "maxTurns: 10\n");
    const body = await cluster.waitForGitHub("the PR", async () => pullOf(24)?.body, `${REPO}#24`);
    expect(body).toContain("**Tests**: none configured.");
  }, 90_000);

  it("an agent whose owner refuses repository commands never runs one: the PR says the tests were not run and why", async () => {
    // Only the refusing agent may take the task.
    await tester?.stop();
    await cluster.startAgent({ name: "refuser", extraArgs: ["--test-commands", "refuse"], env: { FAKE_CLAUDE_ARGS_LOG: argsLog } });
    const marker = join(scratch, "ran");
    const record = await runIssue(25, "Refused tests", `test: touch ${marker}\n`);

    expect(record.agent).toBe("refuser");
    expect(record.tests).toEqual({ status: "refused", command: `touch ${marker}` });
    expect(existsSync(marker)).toBe(false);
    const body = await cluster.waitForGitHub("the PR", async () => pullOf(25)?.body, `${REPO}#25`);
    expect(body).toContain(
      `**Tests**: not run. The repository's test command is \`touch ${marker}\`, but the agent's owner does not allow repository commands on \`refuser\``,
    );
  }, 90_000);
});
