import type { Job } from "bullmq";
import { controlBlocker, STOPPED_WAITING_FOR } from "../control/control-blocker.js";
import type { TaskRecord } from "../queue/task-record.js";
import { refusalMessage, type TaskRefusal } from "../queue/task-signature.js";
import type { Logger } from "../shared/logger.js";
import { LIVE_STATES } from "../shared/task-state.js";
import type { ControlState } from "../store/cluster-control.js";
import type { DispatchRecord, DispatchStore } from "../store/dispatch-store.js";
import { ACTIONS_QUEUE, requeueActionsTask } from "./actions-queue.js";
import type { DispatcherOptions } from "./dispatcher-options.js";

/**
 * The cluster's controls in runner mode: what the dispatcher does to workflow runs and waiting
 * tasks when a task is cancelled, the cluster is paused or stopped, and when it resumes.
 */
export interface HoldDeps extends Pick<DispatcherOptions, "store" | "queues" | "events" | "getOctokit"> {
  dispatches: DispatchStore;
  log: Logger;
  now: () => number;
}

/**
 * Workflow runs that must not go on: those of a task cancelled meanwhile (`/claude cancel`,
 * the issue closed), and on emergency stop every one, its task waiting for the resume on the
 * queue again. The dispatch is marked expired, so its run's later events change nothing and
 * a run that only starts now is cancelled when it does (follow-workflow-job).
 */
export async function cancelRuns(deps: HoldDeps, control: ControlState): Promise<string[]> {
  const cancelled: string[] = [];
  for (const dispatch of await deps.dispatches.active()) {
    const record = await deps.store.get(dispatch.taskId);
    const live = record !== undefined && record.run === dispatch.run && LIVE_STATES.includes(record.state);
    if (live && control.mode !== "stopped") continue;
    const log = deps.log.child({ taskId: dispatch.taskId, dispatchId: dispatch.id, runId: dispatch.runId });
    await deps.dispatches.save({ ...dispatch, state: "expired" });
    if (dispatch.runId !== undefined) await cancelRun(deps, dispatch, log);
    cancelled.push(dispatch.taskId);
    if (!live) {
      log.info("task no longer live: its workflow run was cancelled");
      continue;
    }
    const verdict = await requeueActionsTask(deps.queues, dispatch);
    if (!verdict.ok) {
      await refusedRequeue(deps, dispatch, verdict.reason, log);
      continue;
    }
    await deps.store.update(
      dispatch.taskId,
      { state: "waiting", waitingFor: STOPPED_WAITING_FOR, agent: null, progress: null, blockedBy: controlBlocker(control) ?? null },
      LIVE_STATES,
      { run: dispatch.run },
    );
    await deps.events.emit({ type: "task-changed", taskId: dispatch.taskId });
    log.warn("emergency stop: workflow run cancelled, task waits on the queue for the resume");
  }
  return cancelled;
}

/** While paused or stopped: every task on the queue says why it does not start. Dispatches nothing. */
export async function holdWaiting(deps: HoldDeps, blocker: string): Promise<string[]> {
  const queue = deps.queues.queue(ACTIONS_QUEUE);
  for (const job of await queue.getJobs(["prioritized", "waiting", "delayed"], 0, 499)) {
    const verdict = deps.queues.verify(job as Job);
    if (!verdict.ok) continue; // refused (and removed) when it would be dispatched
    const record = await deps.store.get(verdict.task.taskId);
    if (!record || record.run !== verdict.task.run || !LIVE_STATES.includes(record.state) || record.blockedBy === blocker) continue;
    if (await deps.store.update(record.taskId, { blockedBy: blocker }, [record.state], { version: record.version })) {
      await deps.events.emit({ type: "task-changed", taskId: record.taskId });
    }
  }
  return [];
}

/**
 * A task on the queue, due now: it no longer says the cluster holds it, and a task that was
 * waiting (the stop put it back, a usage limit's reset came, its runner's login is back) is
 * queued again instead of naming a wait that is over while a runner is found and starts.
 */
export async function liftHold(deps: HoldDeps, record: TaskRecord): Promise<void> {
  const waited = record.state === "waiting";
  if (!waited && !record.blockedBy) return;
  const patch = waited ? { state: "queued" as const, waitingFor: null, blockedBy: null } : { blockedBy: null };
  if (await deps.store.update(record.taskId, patch, [record.state], { version: record.version })) {
    await deps.events.emit({ type: "task-changed", taskId: record.taskId });
  }
}

export async function refusedRequeue(deps: HoldDeps, dispatch: DispatchRecord, reason: TaskRefusal, log: Logger): Promise<void> {
  log.error({ reason }, `refused to queue a dispatch's task again: ${reason}; the dispatch record was changed in Redis`);
  await deps.store.update(
    dispatch.taskId,
    { state: "failed", failure: { kind: "invalid-request", message: refusalMessage(reason, "the dispatcher") }, finishedAt: deps.now() },
    LIVE_STATES,
    { run: dispatch.run },
  );
  await deps.events.emit({ type: "task-changed", taskId: dispatch.taskId });
}

export async function cancelRun(deps: HoldDeps, dispatch: DispatchRecord, log: Logger): Promise<void> {
  try {
    const octokit = await deps.getOctokit(dispatch.installationId);
    await octokit.rest.actions.cancelWorkflowRun({ owner: dispatch.owner, repo: dispatch.repo, run_id: dispatch.runId! });
  } catch (error) {
    // Already finished or cancelled (409): nothing left to stop.
    log.debug({ err: error, runId: dispatch.runId }, "could not cancel the stale workflow run");
  }
}
