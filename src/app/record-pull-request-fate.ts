import type { TaskRecord } from "../queue/task-record.js";
import type { TaskPatch } from "../queue/task-store.js";
import { PullRequestFates } from "../store/pull-request-fates.js";
import { PullRequestIndex } from "../store/pull-request-index.js";
import type { Logger } from "../shared/logger.js";
import { formatTaskId } from "../shared/task-id.js";
import type { TaskState } from "../shared/task-state.js";
import type { IntakeDeps } from "./intake-deps.js";
import { PullRequestChecks } from "../store/pull-request-checks.js";

/** A `pull_request` `closed` delivery, in the terms the cluster keeps. */
export interface ClosedPullRequest {
  owner: string;
  repo: string;
  number: number;
  merged: boolean;
  /** GitHub's `created_at`. */
  openedAt: number;
  /** GitHub's `merged_at`, or `closed_at` when not merged. */
  at: number;
}

type Fate = "merged" | "closed";

/**
 * States a task may take its PR's fate from. Only a finished task: a live run of the same issue
 * (a rerun after the PR was opened) is left alone, and its record no longer holds this PR anyway.
 * Merged may follow closed (the PR was reopened, then merged); nothing follows merged, so a late
 * or repeated event never takes a task back.
 */
const FROM: Record<Fate, readonly TaskState[]> = { merged: ["pr-open", "closed"], closed: ["pr-open"] };

/**
 * Gives the task whose run opened the pull request the PR's fate: state `merged` or `closed`
 * (the reporter then sets the label and the tracking comment), and the PR's entry in the fates
 * that merge rate, cost per merged PR and time to merge are computed from. Safe to repeat: a
 * redelivery after a half-done attempt completes it, and otherwise changes nothing.
 */
export async function recordPullRequestFate(deps: IntakeDeps, pr: ClosedPullRequest, log: Logger): Promise<void> {
  const fate: Fate = pr.merged ? "merged" : "closed";
  const prId = formatTaskId({ owner: pr.owner, repo: pr.repo, number: pr.number });
  const taskId = await new PullRequestIndex(deps.redis, deps.prefix).lookup(pr.owner, pr.repo, pr.number);
  const feedback = await fateOfFeedbackTask(deps, prId, taskId, fate, pr, log);
  if (!taskId) {
    log.debug({ pr: prId, fate }, "pull request closed that no task of the cluster opened: ignored");
    return;
  }
  const record = await giveFate(deps, taskId, fate, pr);
  if (!record) {
    log.debug({ pr: prId, taskId, fate }, "pull request closed, but its task has moved on (a new run) or already has this fate: task left alone");
    return;
  }
  const checks = await new PullRequestChecks(deps.redis, deps.prefix).get(pr.owner, pr.repo, pr.number);
  const recorded = await new PullRequestFates(deps.redis, deps.prefix).record(
    {
      ...(checks ? { ciFixRuns: checks.fixRuns, conflictRuns: checks.conflictRuns ?? 0, humanCommits: checks.humanCommits === true } : {}),
      pr: prId,
      taskId,
      outcome: fate,
      specialty: record.specialty,
      agent: record.agent ?? "unknown",
      account: record.account ?? "unknown",
      openedAt: pr.openedAt,
      at: pr.at,
    },
    feedback ? [taskId, prId] : [taskId],
  );
  log.info({ pr: prId, taskId, fate, recorded }, `pull request ${fate}`);
}

/**
 * A closed pull request was reopened: the task that opened it is `pr-open` again (label
 * `claude:pr-open`), and the PR's `closed` fate no longer counts against the merge rate. Only a
 * task that still holds this PR and is `closed`; anything else is left alone. Safe to repeat.
 */
export async function reopenPullRequest(deps: IntakeDeps, pr: Pick<ClosedPullRequest, "owner" | "repo" | "number">, log: Logger): Promise<void> {
  const prId = formatTaskId({ owner: pr.owner, repo: pr.repo, number: pr.number });
  const taskId = await new PullRequestIndex(deps.redis, deps.prefix).lookup(pr.owner, pr.repo, pr.number);
  for (const id of new Set([taskId, prId])) {
    if (id === undefined) continue;
    const reopened = await deps.store.update(id, { state: "pr-open", closedAt: null }, ["closed"], id === taskId ? { prNumber: pr.number } : {});
    if (reopened) await deps.events.emit({ type: "task-changed", taskId: id });
  }
  const forgot = await new PullRequestFates(deps.redis, deps.prefix).forgetClosed(prId);
  log.info({ pr: prId, taskId, forgot }, "pull request reopened");
}

/** The record's change for a fate: the state and when GitHub says it happened. */
function fatePatch(fate: Fate, pr: ClosedPullRequest): TaskPatch {
  return fate === "merged" ? { state: fate, mergedAt: pr.at } : { state: fate, closedAt: pr.at };
}

/**
 * Moves the task to the fate unless it is there already, and asks the reporter to show it.
 * Returns the record when the task has this fate and still holds this PR (just now or before),
 * else undefined: the update script checks `prNumber`, so a rerun that started meanwhile is safe.
 */
async function giveFate(deps: IntakeDeps, taskId: string, fate: Fate, pr: ClosedPullRequest): Promise<TaskRecord | undefined> {
  await deps.store.update(taskId, fatePatch(fate, pr), FROM[fate], { prNumber: pr.number });
  const record = await deps.store.get(taskId);
  if (!record || record.state !== fate || record.prNumber !== pr.number) return undefined;
  // Emitted on a redelivery too: a report lost with a failed first attempt is made again.
  await deps.events.emit({ type: "task-changed", taskId });
  return record;
}

/**
 * A PR-feedback task (its task id is the PR itself, `owner/repo#<pr>`) ends with its PR too.
 * Only when it has finished; its cost counts towards the PR's when the PR is the cluster's own.
 * Returns whether such a task took the fate.
 */
async function fateOfFeedbackTask(
  deps: IntakeDeps,
  prId: string,
  issueTaskId: string | undefined,
  fate: Fate,
  pr: ClosedPullRequest,
  log: Logger,
): Promise<boolean> {
  if (prId === issueTaskId) return false;
  const record = await deps.store.get(prId);
  if (!record || (record.prNumber !== undefined && record.prNumber !== pr.number)) return false;
  const from: readonly TaskState[] = fate === "merged" ? ["pr-open", "no-changes", "closed"] : ["pr-open", "no-changes"];
  await deps.store.update(prId, fatePatch(fate, pr), from);
  const after = await deps.store.get(prId);
  if (after?.state !== fate) return false;
  await deps.events.emit({ type: "task-changed", taskId: prId });
  log.info({ pr: prId, fate }, `the pull request's feedback task ends ${fate}`);
  return true;
}
