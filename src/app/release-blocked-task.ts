import { ACTIONS_QUEUE, addActionsTask } from "../dispatcher/actions-queue.js";
import type { TaskData } from "../queue/task-data.js";
import type { TaskRecord } from "../queue/task-record.js";
import { taskJobId } from "../queue/task-queues.js";
import { refusalMessage } from "../queue/task-signature.js";
import { BlockedTasks, type HeldJob } from "../store/blocked-tasks.js";
import { issueKey, parseTaskId } from "../shared/task-id.js";
import type { DependencyDeps } from "./dependency-deps.js";

type ReleaseDeps = Omit<DependencyDeps, "getOctokit">;

export type ReleaseOutcome = "queued" | "not-blocked" | "failed";

/**
 * Queues a blocked task's held job: its last blocker closed, or `/claude run --force`. The
 * record moves `blocked → queued` first, conditionally on its run, so of two closes (or a close
 * and the reconciler) only one queues the job; the held job is dropped only once the job is on
 * its queue, and `requeueHeldJob` puts back one whose app stopped in between. The held job sits
 * in Redis: it is queued only while the app's signature still holds.
 */
export async function releaseBlockedTask(deps: ReleaseDeps, record: TaskRecord, why: string): Promise<ReleaseOutcome> {
  const blocked = new BlockedTasks(deps.redis, deps.prefix);
  const held = await blocked.held(record.taskId);
  const task = checkHeld(deps, record, held);
  if (typeof task === "string") {
    await failBlockedTask(deps, record, task);
    return "failed";
  }
  const now = (deps.now ?? Date.now)();
  // Queued from now: the queue's wait and the reconciler's grace count from the release.
  if (!(await deps.store.update(record.taskId, { state: "queued", dependsOn: null, queuedAt: now }, ["blocked"], { run: record.run }))) return "not-blocked";
  try {
    await addHeld(deps, held!.queue, task);
  } catch (error) {
    // Still held: the reconciler queues it again (requeueHeldJob) rather than fail it.
    deps.log.warn({ err: error, taskId: record.taskId }, "could not queue a released task; the reconciler tries again");
    await deps.events.emit({ type: "task-changed", taskId: record.taskId });
    return "queued";
  }
  await blocked.drop(record.taskId, record.run);
  await blocked.unindex(record.taskId, blockerKeys(record));
  deps.log.info({ taskId: record.taskId, run: record.run, queue: held!.queue, why }, "blocked task released");
  await deps.events.emit({ type: "task-changed", taskId: record.taskId });
  return "queued";
}

/**
 * A task released (`queued`) whose job never reached its queue, because the app stopped or Redis
 * failed in between: its held job is still there, so it is queued now. False when there is none.
 */
export async function requeueHeldJob(deps: ReleaseDeps, record: TaskRecord): Promise<boolean> {
  const blocked = new BlockedTasks(deps.redis, deps.prefix);
  const held = await blocked.held(record.taskId);
  if (!held || held.run !== record.run || record.state !== "queued") return false;
  const task = checkHeld(deps, record, held);
  if (typeof task === "string") return false;
  await addHeld(deps, held.queue, task);
  await blocked.drop(record.taskId, record.run);
  deps.log.warn({ taskId: record.taskId, run: record.run }, "a released task had no queue job: its held job was queued again");
  return true;
}

/** Ends a blocked task `failed` with `message`, and forgets its held job and its place in the index. */
export async function failBlockedTask(
  deps: ReleaseDeps,
  record: TaskRecord,
  message: string,
  kind: "invalid-request" | "dependency-cycle" = "invalid-request",
): Promise<boolean> {
  const now = (deps.now ?? Date.now)();
  const failed = await deps.store.update(record.taskId, { state: "failed", failure: { kind, message }, finishedAt: now, dependsOn: null }, ["blocked"], {
    run: record.run,
  });
  const blocked = new BlockedTasks(deps.redis, deps.prefix);
  await blocked.drop(record.taskId, record.run);
  await blocked.unindex(record.taskId, blockerKeys(record));
  if (failed) {
    deps.log.warn({ taskId: record.taskId, run: record.run }, `blocked task failed: ${message}`);
    await deps.events.emit({ type: "task-changed", taskId: record.taskId });
  }
  return failed;
}

/** The reverse-index keys of the issues the record waits for. */
export function blockerKeys(record: Pick<TaskRecord, "dependsOn">): string[] {
  const ids = [...(record.dependsOn?.open ?? []), ...(record.dependsOn?.unreadable ?? [])];
  return ids.flatMap((id) => {
    const ref = parseTaskId(id);
    return ref ? [issueKey(ref)] : [];
  });
}

/** The held job's task if it is this run's and the app signed it, else why not (for the issue). */
function checkHeld(deps: ReleaseDeps, record: TaskRecord, held: HeldJob | undefined): TaskData | string {
  if (!held || held.run !== record.run) {
    return "its held job is gone from Redis (it expired, or Redis lost it): comment `/claude run` to queue the issue again";
  }
  const verdict = deps.queues.verify({ id: taskJobId(record.taskId, record.run), queueName: held.queue, data: held.data });
  return verdict.ok ? verdict.task : refusalMessage(verdict.reason, "the app");
}

async function addHeld(deps: ReleaseDeps, queue: string, task: TaskData): Promise<void> {
  if (queue === ACTIONS_QUEUE) {
    await addActionsTask(deps.queues, task);
    deps.dispatchNow?.();
  } else {
    await deps.queues.add(task);
  }
}
