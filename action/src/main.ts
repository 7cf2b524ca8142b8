import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { buildPrompt } from "../../src/claude/build-prompt.js";
import { executorAttributes, recordRunOutcome } from "../../src/claude/executor-span.js";
import { ProgressTracker } from "../../src/claude/progress-tracker.js";
import { runnerReportLine, type RunnerReport } from "../../src/claude/runner-report.js";
import { runUsage } from "../../src/claude/run-usage.js";
import { stateLabel } from "../../src/shared/task-state.js";
import type { runClaude } from "../../src/claude/run-claude.js";
import type { TaskRecord } from "../../src/queue/task-record.js";
import type { GitHubClient } from "../../src/github/github-client.js";
import { openPullRequest } from "../../src/reporter/open-pull-request.js";
import type { Logger } from "../../src/shared/logger.js";
import { traceEnv } from "../../src/telemetry/trace-env.js";
import { withSpan } from "../../src/telemetry/tracer.js";
import type { ActionInputs } from "./inputs.js";
import { checkoutTaskBranch, commitRun, identityEnv, pushTaskBranch } from "./lib/checkout-branch.js";
import { gitCredentialConfig } from "./lib/git-credential-config.js";
import type { JobContext } from "./lib/job-context.js";
import { loadTask } from "./lib/load-task.js";
import { removePersistedCredentials } from "./lib/remove-persisted-credentials.js";
import { reportTask } from "./lib/report-task.js";
import { claudeFailed } from "./lib/claude-failed.js";
import { actionTaskAttributes, inputTrace } from "./lib/task-spans.js";

export interface MainDeps {
  octokit: GitHubClient;
  job: JobContext;
  log: Logger;
  runClaude: typeof runClaude;
  now: () => number;
  /** A warning the run's page shows (an annotation), for what the workflow's owner should fix. */
  warn: (message: string) => void;
  /** Least time between two progress edits of the tracking comment. @defaultValue 15000 */
  progressIntervalMs?: number;
}

/**
 * `waiting`: usage limit or expired login; the job does not fail and the cluster dispatches the
 * task again. `cancelled`: the task was cancelled while the job ran; nothing is pushed or opened.
 */
export type Conclusion = "pr-open" | "no-changes" | "failed" | "waiting" | "cancelled";

export interface Outcome {
  conclusion: Conclusion;
  branch: string;
  prUrl?: string;
  costUsd?: number;
  turns?: number;
}

/** Secrets of the job that Claude's tools have no business seeing. */
const HIDDEN_FROM_CLAUDE = [
  "INPUT_GITHUB-TOKEN",
  "GITHUB_TOKEN",
  "GH_TOKEN",
  "ACTIONS_RUNTIME_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_URL",
];

/**
 * One task on a self-hosted runner, as the daemon runs it, reporting to GitHub directly; in
 * the task's trace when the dispatcher passed its span as the `traceparent` input
 * (docs/observability.md, "Runner mode").
 */
export async function main(deps: MainDeps, inputs: ActionInputs): Promise<Outcome> {
  const options = { kind: SpanKind.CONSUMER, attributes: actionTaskAttributes(inputs, deps.job) };
  const trace = inputTrace(inputs);
  return withSpan("task run", trace ? { ...options, parent: trace } : options, async (span) => {
    const outcome = await runTask(deps, inputs);
    span.setAttribute("ccc.task.end", outcome.conclusion);
    if (outcome.conclusion === "failed") span.setStatus({ code: SpanStatusCode.ERROR, message: "the task failed" });
    return outcome;
  });
}

async function runTask(deps: MainDeps, inputs: ActionInputs): Promise<Outcome> {
  const { octokit, job, log } = deps;

  // 1. The task: issue, comments, settings, branch name; the issue shows it running, unless it
  // was cancelled before the job started.
  const { data, record } = await loadTask(octokit, inputs, job, deps.now());
  if (await cancelledOnIssue(octokit, record)) return cancelledOutcome(log, data.branch);
  record.commentId = await reportTask(octokit, record, deps.now());
  // What the app reads back when the job ends: usage under this runner's account, reset time, login issue.
  const runnerReport: RunnerReport = { taskId: data.taskId, run: data.run, runner: job.RUNNER_NAME, account: job.account };
  const stop = new AbortController();
  // Reports go one at a time, progress included (a failed one does not hold up the next); once
  // the issue says cancelled, none goes out.
  let reporting: Promise<void> = Promise.resolve();
  const report = (patch: Partial<TaskRecord>): Promise<void> =>
    (reporting = reporting
      .catch(() => undefined)
      .then(async () => {
        if (stop.signal.aborted || (await cancelledOnIssue(octokit, record))) return stop.abort();
        Object.assign(record, { labelState: record.state }, patch);
        await reportTask(octokit, record, deps.now(), runnerReportLine(runnerReport));
      }));
  /** Cancelled (`/claude cancel`, the issue closed) while the job ran: nothing more is pushed, opened or reported. */
  const cancelled = async (): Promise<boolean> => {
    await reporting.catch(() => undefined);
    if (!stop.signal.aborted && (await cancelledOnIssue(octokit, record))) stop.abort();
    return stop.signal.aborted;
  };

  // The token reaches git only in the environment of a fetch or push, never a file Claude can read.
  const auth = gitCredentialConfig(inputs["github-token"], job.GITHUB_SERVER_URL);
  try {
    // 2. No token left in the checkout's config; the checkout on the task branch (the origin's,
    // when an earlier run pushed it).
    const persisted = await removePersistedCredentials(job.GITHUB_WORKSPACE, log);
    if (persisted.length > 0) {
      deps.warn(
        `The checkout kept the job's token in its git config (${persisted.map((credential) => credential.key).join(", ")}); ` +
          "it was removed before Claude started. Set `persist-credentials: false` on the actions/checkout step of this workflow.",
      );
    }
    const task = await checkoutTaskBranch(job.GITHUB_WORKSPACE, data.branch, data.repo.defaultBranch, auth, log);
    log.info({ branch: task.branch, reused: task.reused }, "task branch ready");

    // 3. Claude, with the job's tokens out of its environment and its progress in the tracking comment.
    const progress = new ProgressTracker(deps.progressIntervalMs ?? 15_000, deps.now);
    // One span per executor run, which Claude joins through TRACEPARENT, as on an agent.
    const outcome = await withSpan("executor run", { attributes: executorAttributes(data.settings.model, false) }, async (span) => {
      let model: string | undefined;
      const ran = await deps.runClaude({
        bin: inputs["claude-bin"] ?? job.CLAUDE_BIN,
        prompt: inputs.prompt ?? buildPrompt(data),
        cwd: task.dir,
        model: data.settings.model,
        maxTurns: data.settings.maxTurns,
        permissionMode: data.settings.permissionMode,
        allowedTools: data.settings.allowedTools,
        timeoutMs: data.settings.timeoutMinutes * 60_000,
        env: { ...Object.fromEntries(HIDDEN_FROM_CLAUDE.map((name) => [name, undefined])), ...(await identityEnv(task.dir, log)), ...traceEnv() },
        signal: stop.signal,
        log,
        onEvent: (event) => {
          if (event.type === "init" && event.model) model = event.model;
          progress.observe(event);
          if (progress.due()) report({ progress: progress.take() }).catch((error: unknown) => log.warn({ err: error }, "could not report progress"));
        },
      });
      recordRunOutcome(span, ran, model);
      return ran;
    });
    const usage = runUsage(outcome);
    if (usage) runnerReport.usage = usage;
    const figures = outcome.result ? { costUsd: outcome.result.costUsd, turns: outcome.result.turns } : {};
    if (await cancelled()) return { ...cancelledOutcome(log, data.branch), ...figures };
    if (!outcome.ok) return { ...(await claudeFailed(deps, record, report, runnerReport, outcome.failure)), branch: data.branch, ...figures };

    // 4. Commit leftovers, push, open or reuse the pull request.
    const commits = await commitRun(task, `Work on #${data.issue.number}: uncommitted changes left by Claude`, log);
    const result = { ...outcome.result, commits };
    if (commits === 0 && !task.reused) {
      await report({ state: "no-changes", result, progress: undefined, finishedAt: deps.now() });
      return { conclusion: "no-changes", branch: data.branch, ...figures };
    }
    if (await cancelled()) return { ...cancelledOutcome(log, data.branch), ...figures };
    await withSpan("git push", { attributes: { "ccc.commits": commits } }, () => pushTaskBranch(task, auth, log));
    // Cancelled while it pushed: the branch stays, but no pull request is opened for it.
    if (await cancelled()) return { ...cancelledOutcome(log, data.branch), ...figures };
    // The repository's test command is not run here (the dispatcher does not pass it): the PR says so.
    Object.assign(record, { result, tests: { status: "runner" } });
    const pr = await withSpan("open pull request", {}, async (span) => {
      const opened = await openPullRequest(octokit, record, log);
      span.setAttributes({ "ccc.pr.number": opened.number, "ccc.pr.created": opened.created });
      return opened;
    });
    await report({ state: "pr-open", prUrl: pr.url, prNumber: pr.number, progress: undefined, finishedAt: deps.now() });
    log.info({ pr: pr.url, created: pr.created, commits }, "pull request ready");
    return { conclusion: "pr-open", branch: data.branch, prUrl: pr.url, ...figures };
  } catch (error) {
    // git, push or GitHub trouble: the issue says so, with the run's logs one click away.
    const message = error instanceof Error ? error.message : String(error);
    log.error({ err: error }, "task failed");
    await report({ state: "failed", failure: { kind: "crash", message: `${message} (logs: ${job.runUrl})` }, progress: undefined, finishedAt: deps.now() });
    return { conclusion: "failed", branch: data.branch };
  }
}

/** Whether the issue carries `claude:cancelled`: the app cancelled the task this job runs. */
async function cancelledOnIssue(octokit: GitHubClient, record: TaskRecord): Promise<boolean> {
  const { data } = await octokit.rest.issues.listLabelsOnIssue({ owner: record.owner, repo: record.repo, issue_number: record.issueNumber, per_page: 100 });
  return data.some((label) => label.name === stateLabel("cancelled"));
}

function cancelledOutcome(log: Logger, branch: string): Outcome {
  log.info("the task was cancelled; nothing more is pushed, opened or reported");
  return { conclusion: "cancelled", branch };
}
