import { traceIdOf } from "../telemetry/trace-carrier-schema.js";
import type { TaskData } from "./task-data.js";
import type { TaskDependsOn, TaskRecord } from "./task-record.js";
import type { ClaimProbe, TaskStore } from "./task-store.js";

/** A new run's task before the store numbers the run: everything the agent will need. */
export type TaskDraft = Omit<TaskData, "run">;

/** What `TaskStore.claim` stores for a new run; the store adds the run, version and job id. */
export type NewTaskRecord = Omit<TaskRecord, "run" | "version" | "jobId">;

/**
 * The record a new run starts with, every field taken from its task, so the issue's record and
 * the agent's job can never disagree on the branch, base, specialty or draft setting. Pure.
 */
export function newTaskRecord(task: TaskDraft, queue: string): NewTaskRecord {
  return {
    taskId: task.taskId,
    owner: task.repo.owner,
    repo: task.repo.name,
    issueNumber: task.issue.number,
    installationId: task.installationId,
    title: task.issue.title,
    state: "queued",
    specialty: task.specialty,
    priority: task.priority,
    reason: task.reason,
    branch: task.branch,
    baseBranch: task.pullRequest?.baseBranch ?? task.repo.defaultBranch,
    queue,
    draftPullRequest: task.settings.draftPullRequest,
    ...(task.settings.autoMerge ? { autoMerge: task.settings.autoMerge } : {}),
    queuedAt: task.createdAt,
    ...(task.trace ? { trace: task.trace, traceId: traceIdOf(task.trace) } : {}),
    ...(task.notBefore !== undefined ? { notBefore: task.notBefore } : {}),
    // A PR task's pull request exists already: status and the tracking comment link it from the start.
    ...(task.pullRequest ? { pullRequest: task.pullRequest, prNumber: task.pullRequest.number, prUrl: task.issue.url } : {}),
    ...(task.ciFix
      ? { ciFix: { attempt: task.ciFix.attempt, maxAttempts: task.ciFix.maxAttempts, checks: task.ciFix.checks.map((check) => check.name) } }
      : {}),
    ...(task.conflict && task.pullRequest
      ? {
          conflict: {
            attempt: task.conflict.attempt,
            maxAttempts: task.conflict.maxAttempts,
            baseBranch: task.pullRequest.baseBranch,
            ...(task.conflict.behind ? { behind: true } : {}),
          },
        }
      : {}),
  };
}

/** `probed`: whether the claim's probe key exists, when it was looked at (see `TaskStore.claim`). */
export type ClaimedTask = { created: true; task: TaskData; probed?: boolean } | { created: false; run: number };

/**
 * Starts a new run of the task's issue on `queue` unless one is live: the one way the app, a
 * retry, the tests and the benches create a task. Queueing its job is the caller's next step,
 * unless `blocked` says what the run waits for: it then starts `blocked`, its job held back.
 */
export async function claimTask(store: TaskStore, draft: TaskDraft, queue: string, blocked?: TaskDependsOn, probe?: ClaimProbe): Promise<ClaimedTask> {
  const record = newTaskRecord(draft, queue);
  const claim = await store.claim(blocked ? { ...record, state: "blocked", dependsOn: blocked } : record, probe);
  if (!claim.created) return { created: false, run: claim.run };
  return { created: true, task: { ...draft, run: claim.run }, ...(claim.probed !== undefined ? { probed: claim.probed } : {}) };
}
