import type { ClaudeFailure } from "../claude/classify-failure.js";
import type { ClaudeRunOutcome } from "../claude/run-claude.js";
import type { TestFailure } from "../claude/build-test-fix.js";
import type { TaskData } from "../queue/task-data.js";

type TestSettings = NonNullable<TaskData["settings"]["test"]>;
import type { TaskResult, TaskTests } from "../queue/task-record.js";
import type { Logger } from "../shared/logger.js";
import type { TestCommandRun } from "./run-test-command.js";
import { PROMPT_TAIL, REPORT_TAIL, testOutputTail } from "./test-output-tail.js";

export interface TestStepDeps {
  /** The repository's test command, from the task's signed settings; undefined: none configured. */
  test: TestSettings | undefined;
  /** The agent owner's `--test-commands`. */
  policy: "allow" | "refuse";
  /** Runs the command once in the worktree (and leaves the worktree as its last commit). */
  runTests: (test: TestSettings) => Promise<TestCommandRun>;
  /** Gives Claude the failure to fix, and commits what it left; resolves with its run's outcome. */
  fix: (failure: TestFailure) => Promise<ClaudeRunOutcome>;
  signal: AbortSignal;
  log: Logger;
}

export interface TestStepResult {
  /** The last test run as the task record and the pull request show it, or why none ran. */
  tests: TaskTests;
  /** Claude's fix runs, in order. */
  fixes: ClaudeRunOutcome[];
  /**
   * A fix run stopped by the account's usage limit or an expired login: nothing is pushed yet; the
   * caller puts the task back to wait (`failed`), and a later attempt resumes the session.
   */
  stoppedBy?: ClaudeFailure;
}

/** Failures that are no one's fault and pass: the task waits for them instead of pushing half a fix. */
const WAITS: ReadonlySet<ClaudeFailure["kind"]> = new Set(["usage-limit", "session-expired"]);

/**
 * The repository's tests before the push: run them; on a failure give Claude the output and run
 * them again, at most `fixAttempts` times. Failing tests do not stop the push: the pull request
 * says they fail. A fix run that failed (a crash, max turns) still had its leftovers committed: the
 * tests run once more on what will be pushed, and no further fix is tried. An abort, a usage limit
 * or an expired login stops at once.
 */
export async function runTestStep(deps: TestStepDeps): Promise<TestStepResult> {
  const { test } = deps;
  if (!test) return { tests: { status: "none" }, fixes: [] };
  if (deps.policy === "refuse") return { tests: { status: "refused", command: test.command }, fixes: [] };
  const fixes: ClaudeRunOutcome[] = [];
  let fixFailed = false;
  for (let attempt = 0; ; attempt++) {
    const run = await deps.runTests(test);
    const passed = run.exitCode === 0 && !run.timedOut;
    const tests: TaskTests = {
      status: passed ? "passed" : "failed",
      command: test.command,
      exitCode: run.exitCode,
      timedOut: run.timedOut,
      output: testOutputTail(run.output, REPORT_TAIL),
      durationMs: run.durationMs,
      fixAttempts: attempt,
    };
    deps.log.info({ status: tests.status, exitCode: run.exitCode, timedOut: run.timedOut, attempt }, "repository tests ran");
    if (passed || fixFailed || attempt >= test.fixAttempts || deps.signal.aborted) return { tests, fixes };
    const failure = {
      command: test.command,
      exitCode: run.exitCode,
      timedOut: run.timedOut,
      timeoutMinutes: test.timeoutMinutes,
      output: testOutputTail(run.output, PROMPT_TAIL),
    };
    const outcome = await deps.fix(failure);
    fixes.push(outcome);
    if (deps.signal.aborted) return { tests, fixes };
    if (!outcome.ok && WAITS.has(outcome.failure.kind)) return { tests, fixes, stoppedBy: outcome.failure };
    fixFailed = !outcome.ok;
  }
}

/**
 * The run's figures with Claude's fix runs added; the summary is the last fix's that wrote one,
 * since it was asked to sum up everything it changed.
 */
export function withFixes(result: TaskResult, fixes: ClaudeRunOutcome[]): TaskResult {
  return fixes.reduce<TaskResult>((sum, fix) => {
    if (!fix.result) return sum;
    const summary = fix.ok && fix.result.summary.trim() !== "" ? fix.result.summary : sum.summary;
    return {
      ...sum,
      summary,
      costUsd: sum.costUsd + fix.result.costUsd,
      turns: sum.turns + fix.result.turns,
      durationMs: sum.durationMs + fix.result.durationMs,
    };
  }, result);
}
