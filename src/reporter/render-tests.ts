import type { TaskRecord, TaskTests } from "../queue/task-record.js";
import { redactSecrets } from "../shared/redact.js";
import { formatDuration } from "./format-duration.js";
import { codeSpan, markdownBlock } from "./markdown.js";
import type { OutboundTarget } from "./outbound.js";

/** The output's tail is already cut by the agent (REPORT_TAIL); this only bounds a record written otherwise. */
const MAX_OUTPUT = 6_000;

/** The repository's command in a code span: its writer's words, shown literally, secrets out. */
function commandSpan(text: string): string {
  return codeSpan(redactSecrets(text), 200);
}

/** `exited with code 1`, `was stopped at its time limit`, `was ended by a signal`. */
function howItEnded(tests: Extract<TaskTests, { exitCode: number | null }>): string {
  if (tests.timedOut) return "was stopped at its time limit";
  return tests.exitCode === null ? "was ended by a signal" : `exited with code ${tests.exitCode}`;
}

function fixes(count: number): string {
  return count === 0 ? "" : `, after Claude was given the failing output ${count === 1 ? "once" : `${count} times`}`;
}

/**
 * The output's last lines as a code block at column 0, its fence longer than any backtick run in
 * it, so nothing in it renders; through the outbound filter all the same (the output is the
 * repository's code's, which an issue may have steered, and may print a secret).
 */
function outputBlock(output: string, target: OutboundTarget): string {
  const longestRun = Math.max(2, ...(output.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  return markdownBlock(`${fence}text\n${output === "" ? "(no output)" : output}\n${fence}`, MAX_OUTPUT + 2 * fence.length + 16, target);
}

/**
 * The pull request's section on the repository's tests: the command, how it ended and the last
 * lines of its output, or why none ran. Failing tests say so first, in bold: the work was pushed
 * so that it is not lost, and a reviewer must see the red. Empty for a record without a test
 * result (an agent older than the test step). Pure.
 */
export function testsSection(record: TaskRecord, target: OutboundTarget): string[] {
  const tests = record.tests;
  if (!tests) return [];
  switch (tests.status) {
    case "none":
      return ["**Tests**: none configured. The repository's `.github/claude-cluster.yml` names no `test` command, so nothing was run before the push."];
    case "refused":
      return [
        `**Tests**: not run. The repository's test command is ${commandSpan(tests.command)}, but the agent's owner does not allow repository commands on ${record.agent ? codeSpan(record.agent) : "this agent"} (\`--test-commands refuse\`).`,
      ];
    case "runner":
      return ["**Tests**: not run. Self-hosted runner mode does not run the repository's test command; run it in the pull request's checks."];
    case "passed":
      return [
        `**Tests** ✅ ${commandSpan(tests.command)} passed (exit code 0, ${formatDuration(tests.durationMs)}${fixes(tests.fixAttempts)}).`,
        `<details><summary>Last lines of its output</summary>\n\n${outputBlock(tests.output, target)}\n\n</details>`,
      ];
    case "failed":
      return [
        `**Tests** ❌ **The tests fail**: ${commandSpan(tests.command)} ${howItEnded(tests)}${fixes(tests.fixAttempts)}. ` +
          "The changes were pushed anyway so that the work is not lost; do not merge before the tests pass.",
        "Last lines of its output:",
        outputBlock(tests.output, target),
      ];
  }
}

/** One line for the tracking comment, when the tests ran or were meant to; failing tests stand out. Pure. */
export function testsLine(record: TaskRecord): string | undefined {
  const tests = record.tests;
  if (!tests) return undefined;
  switch (tests.status) {
    case "none":
      return undefined;
    case "refused":
      return `**Tests** not run: the agent's owner does not allow repository commands (${commandSpan(tests.command)})`;
    case "runner":
      return "**Tests** not run: self-hosted runner mode does not run the repository's test command";
    case "passed":
      return `**Tests** ✅ ${commandSpan(tests.command)} passed${fixes(tests.fixAttempts)}`;
    case "failed":
      return `⚠️ **Tests fail**: ${commandSpan(tests.command)} ${howItEnded(tests)}${fixes(tests.fixAttempts)}; the pull request shows its output`;
  }
}
