import type { TaskRecord } from "../queue/task-record.js";
import type { TaskQueues } from "../queue/task-queues.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../queue/event-queue.js";
import type { GitHubClient } from "../github/github-client.js";
import type { Logger } from "../shared/logger.js";
import { LIVE_STATES, STATE_LABELS, type TaskState } from "../shared/task-state.js";
import { refusalMessage } from "../queue/task-signature.js";
import { requeueActionsTask } from "./actions-queue.js";
import type { DispatchRecord, DispatchStore } from "../store/dispatch-store.js";
import type { UsageStore } from "../store/usage-store.js";
import { readRunnerReport, untilReset, type RunnerReport } from "../claude/runner-report.js";
import type { PullRequestIndex } from "../store/pull-request-index.js";

export interface FollowDeps {
  store: TaskStore;
  dispatches: DispatchStore;
  /** Where the PR a runner's task opened is indexed, so that its fate finds the task. */
  pullRequests: PullRequestIndex;
  queues: TaskQueues;
  events: EventQueue;
  log: Logger;
  now: () => number;
  /** Where a runner's Claude spend is counted, as agents' is. */
  usage: UsageStore;
  /**
   * How long a task whose job ended "waiting" rests before it is dispatched again, when the job
   * did not say until when (a usage limit's reported reset wins; closing a runner's
   * session-timeout issue dispatches at once). @defaultValue 15 min
   */
  waitingRetryMs?: number;
}

/** What the dispatcher reads from a `workflow_job` or `workflow_run` delivery. */
export interface WorkflowEvent {
  kind: "job" | "run";
  action: string;
  runId: number;
  /** The runner that took the job (jobs only, once started). */
  runnerName?: string | null;
  /** `success`, `failure`, `cancelled`, `startup_failure`, … once completed. */
  conclusion?: string | null;
  htmlUrl: string;
}

/** States the action reports itself by label; anything else on completion means it could not. */
const REPORTED: readonly TaskState[] = ["pr-open", "no-changes", "failed", "waiting"];

/**
 * Moves an actions-mode task along with its workflow job: started → running, completed → the
 * outcome the action put on the issue. The action writes the tracking comment and label
 * itself, so these changes emit no reporter event; only when the job ended without the action
 * reporting (runner lost, job cancelled, workflow broken) does the reporter say so.
 */
export async function followWorkflowJob(deps: FollowDeps, octokit: GitHubClient, dispatch: DispatchRecord, event: WorkflowEvent): Promise<void> {
  const log = deps.log.child({ taskId: dispatch.taskId, dispatchId: dispatch.id, runId: event.runId, action: `${event.kind}.${event.action}` });
  // The caller matched the event to the dispatch (handle-workflow-events.ts); this keeps any other
  // run from ever moving the task or being cancelled in its name.
  if (dispatch.runId !== undefined && dispatch.runId !== event.runId) {
    log.info({ dispatchRunId: dispatch.runId }, "event of another run ignored");
    return;
  }
  const withRun = dispatch.runId === undefined ? { ...dispatch, runId: event.runId } : dispatch;

  if (event.action !== "completed") {
    if (event.kind === "job" && event.action === "in_progress") return started(deps, octokit, withRun, event, log);
    if (dispatch.state === "expired" && withRun !== dispatch) {
      // Its task was cancelled, stopped or dispatched again before GitHub named the run: cancel it
      // now, while it waits for a runner, rather than when a runner takes it.
      await deps.dispatches.save(withRun);
      return cancelSuperseded(octokit, withRun, log);
    }
    if (withRun !== dispatch) await deps.dispatches.save(withRun);
    return;
  }
  // A run's completion matters only when its job never started (startup failure, cancelled while queued).
  if (event.kind === "run" && dispatch.state !== "dispatched") {
    if (withRun !== dispatch) await deps.dispatches.save(withRun);
    return;
  }
  if (dispatch.state === "done" || dispatch.state === "expired") return;
  await deps.dispatches.save({ ...withRun, state: "done" });
  const record = await deps.store.get(dispatch.taskId);
  if (!record || record.run !== dispatch.run || !LIVE_STATES.includes(record.state)) return;

  const reported = await labelledState(octokit, record);
  const now = deps.now();
  const report = await runnerReport(octokit, record, log);
  if (report?.usage) {
    await deps.usage
      .record({ at: now, agent: report.runner, account: report.account, taskId: record.taskId, ...report.usage })
      .catch((error: Error) => log.warn({ err: error }, "could not record the runner's usage"));
  }
  if (reported === "waiting") {
    const retryMs = report?.resetAt !== undefined ? untilReset(report.resetAt, now) : (deps.waitingRetryMs ?? 15 * 60_000);
    // The dispatch record sits in Redis: its data is queued again only while the app's signature holds.
    const verdict = await requeueActionsTask(deps.queues, dispatch, retryMs);
    if (!verdict.ok) {
      log.error({ reason: verdict.reason }, `refused to queue a dispatch's task again: ${verdict.reason}; the dispatch record was changed in Redis`);
      await deps.store.update(
        record.taskId,
        { state: "failed", failure: { kind: "invalid-request", message: refusalMessage(verdict.reason, "the dispatcher") }, finishedAt: now },
        LIVE_STATES,
        { run: dispatch.run },
      );
      await deps.events.emit({ type: "task-changed", taskId: record.taskId });
      return;
    }
    await deps.store.update(record.taskId, { state: "waiting", agent: null, progress: null, ...waitingPatch(report, now + retryMs) }, LIVE_STATES, {
      run: dispatch.run,
    });
    await deps.events.emit({ type: "task-changed", taskId: record.taskId });
    log.info({ retryMs, resetAt: report?.resetAt, sessionIssue: report?.sessionIssue }, "job ended waiting; task queued again");
    return;
  }
  if (reported !== undefined) {
    const pr = reported === "pr-open" ? await openPullRequestFor(octokit, record) : undefined;
    if (pr) await deps.pullRequests.remember(record.owner, record.repo, pr.number, record.taskId);
    await deps.store.update(record.taskId, { state: reported, finishedAt: now, ...(pr ? { prUrl: pr.url, prNumber: pr.number } : {}) }, LIVE_STATES, {
      run: dispatch.run,
    });
    log.info({ state: reported }, "task finished on a self-hosted runner");
    return;
  }
  const message = `the workflow ${event.kind} ended "${event.conclusion ?? "unknown"}" before the task reported its outcome; see ${event.htmlUrl}`;
  await deps.store.update(record.taskId, { state: "failed", failure: { kind: "crash", message }, finishedAt: now }, LIVE_STATES, { run: dispatch.run });
  await deps.events.emit({ type: "task-changed", taskId: record.taskId });
  log.warn({ conclusion: event.conclusion }, "workflow ended without a report from the action");
}

/** What a task that ended waiting on a runner waits for, from what its job reported. */
function waitingPatch(report: RunnerReport | undefined, againAt: number): Pick<TaskRecord, "waitingFor" | "failure"> {
  const at = new Date(againAt).toISOString();
  const runner = report ? `runner ${report.runner}` : "the runner";
  if (report?.sessionIssue !== undefined) {
    const message = `the Claude login on ${runner} expired`;
    return {
      waitingFor: `a new Claude login on ${runner}: closing issue #${report.sessionIssue} once it is logged in dispatches the task at once (else again at ${at})`,
      failure: { kind: "session-expired", message },
    };
  }
  if (report?.resetAt !== undefined) {
    return {
      waitingFor: `the usage limit of account ${report.account} to reset; dispatched again at ${at}`,
      failure: { kind: "usage-limit", message: `${runner} reached its usage limit` },
    };
  }
  return { waitingFor: `a self-hosted runner, again at ${at}` };
}

/**
 * The Action's hidden report for this run of the task: in the task's tracking comment when the
 * record knows it (no other comment, however it is written, is read), else in a bot's comment.
 */
async function runnerReport(octokit: GitHubClient, record: TaskRecord, log: Logger): Promise<RunnerReport | undefined> {
  try {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      owner: record.owner,
      repo: record.repo,
      issue_number: record.issueNumber,
      per_page: 100,
    });
    for (const comment of comments.reverse()) {
      if (comment.user?.type !== "Bot" || (record.commentId !== undefined && comment.id !== record.commentId)) continue;
      const report = readRunnerReport(comment.body, record.taskId, record.run);
      if (report) return report;
    }
  } catch (error) {
    log.warn({ err: error }, "could not read the runner's report from the tracking comment; its usage is not counted");
  }
  return undefined;
}

async function cancelSuperseded(octokit: GitHubClient, dispatch: DispatchRecord, log: Logger): Promise<void> {
  log.warn("a superseded dispatch's run is going; cancelling it");
  await octokit.rest.actions
    .cancelWorkflowRun({ owner: dispatch.owner, repo: dispatch.repo, run_id: dispatch.runId! })
    .catch((error: unknown) => log.debug({ err: error }, "could not cancel the superseded run"));
}

async function started(deps: FollowDeps, octokit: GitHubClient, dispatch: DispatchRecord, event: WorkflowEvent, log: Logger): Promise<void> {
  if (dispatch.state === "expired") {
    // Re-queued after the timeout, and started anyway: the newer dispatch owns the task now. The
    // run is the dispatch's own (its repository, workflow and run id matched), so only it is cancelled.
    return cancelSuperseded(octokit, dispatch, log);
  }
  if (dispatch.state !== "dispatched") return;
  const runner = event.runnerName ?? "a self-hosted runner";
  await deps.dispatches.save({ ...dispatch, state: "started", runner });
  await deps.store.update(
    dispatch.taskId,
    { state: "running", agent: `runner ${runner}`, startedAt: deps.now(), progress: null, waitingFor: null, blockedBy: null },
    ["queued", "waiting"],
    { run: dispatch.run },
  );
}

/** The `claude:<state>` label the action left on the issue, if it is one the action reports. */
async function labelledState(octokit: GitHubClient, record: TaskRecord): Promise<TaskState | undefined> {
  const { data } = await octokit.rest.issues.listLabelsOnIssue({ owner: record.owner, repo: record.repo, issue_number: record.issueNumber, per_page: 100 });
  const states = data
    .map((label) => label.name)
    .filter((name) => STATE_LABELS.includes(name))
    .map((name) => name.slice("claude:".length) as TaskState);
  return states.find((state) => REPORTED.includes(state));
}

async function openPullRequestFor(octokit: GitHubClient, record: TaskRecord): Promise<{ url: string; number: number } | undefined> {
  const { data } = await octokit.rest.pulls.list({
    owner: record.owner,
    repo: record.repo,
    head: `${record.owner}:${record.branch}`,
    state: "open",
    per_page: 1,
  });
  return data[0] ? { url: data[0].html_url, number: data[0].number } : undefined;
}
