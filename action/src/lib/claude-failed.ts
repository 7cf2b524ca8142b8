import type { ClaudeFailure } from "../../../src/claude/classify-failure.js";
import type { RunnerReport } from "../../../src/claude/runner-report.js";
import type { GitHubClient } from "../../../src/github/github-client.js";
import type { TaskRecord } from "../../../src/queue/task-record.js";
import type { JobContext } from "./job-context.js";
import { ensureSessionTimeoutIssue } from "./session-timeout-issue.js";

/** Claude did not succeed: wait (limit, login) or fail, as in daemon mode, as far as a job can. */
export async function claudeFailed(
  deps: { octokit: GitHubClient; job: JobContext; now: () => number },
  record: TaskRecord,
  report: (patch: Partial<TaskRecord>) => Promise<void>,
  runnerReport: RunnerReport,
  failure: ClaudeFailure,
): Promise<{ conclusion: "waiting" | "failed" }> {
  const { job } = deps;
  const runner = job.RUNNER_NAME;
  if (failure.kind === "usage-limit") {
    // The app queues the task again for this time (parse-reset-time), not a fixed wait.
    if (failure.resetAt !== undefined) runnerReport.resetAt = failure.resetAt;
    const until = failure.resetAt !== undefined ? `reset at ${new Date(failure.resetAt).toISOString()}` : "reset";
    await report({
      state: "waiting",
      failure: { kind: failure.kind, message: failure.message },
      progress: undefined,
      waitingFor: `the usage limit to ${until} (runner ${runner}); the cluster dispatches the task again`,
    });
    return { conclusion: "waiting" };
  }
  if (failure.kind === "session-expired") {
    const issue = await ensureSessionTimeoutIssue(deps.octokit, { owner: job.owner, repo: job.repo, runner, message: failure.message, runUrl: job.runUrl });
    // Closing it dispatches the task again at once.
    runnerReport.sessionIssue = issue.number;
    await report({
      state: "waiting",
      failure: { kind: failure.kind, message: failure.message },
      progress: undefined,
      waitingFor: `a new Claude login on runner ${runner} (issue #${issue.number}: run claude /login as the runner's user, then close it)`,
    });
    return { conclusion: "waiting" };
  }
  await report({
    state: "failed",
    failure: { kind: failure.kind, message: `${failure.message} (logs: ${job.runUrl})` },
    progress: undefined,
    finishedAt: deps.now(),
  });
  return { conclusion: "failed" };
}
