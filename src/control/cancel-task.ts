import type { RedisClient } from "../shared/redis-client.js";
import type { TaskQueues } from "../queue/task-queues.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../queue/event-queue.js";
import { LIVE_STATES } from "../shared/task-state.js";
import { BlockedTasks } from "../store/blocked-tasks.js";
import { publishControl } from "../store/control-channel.js";

export interface CancelDeps {
  redis: RedisClient;
  prefix: string;
  store: TaskStore;
  queues: TaskQueues;
  events: EventQueue;
  now?: () => number;
}

export type CancelOutcome = "cancelled" | "not-live";

/**
 * Cancels the issue's live task: a queued job is removed; a running one is told to abort
 * through the control channel (its agent cleans the worktree and pushes nothing); a blocked
 * one's held job is forgotten (its blockers' index entries go when they close).
 */
export async function cancelTask(deps: CancelDeps, taskId: string, by: string): Promise<CancelOutcome> {
  const record = await deps.store.get(taskId);
  if (!record) return "not-live";
  const now = (deps.now ?? Date.now)();
  const changed = await deps.store.update(
    taskId,
    { state: "cancelled", failure: { kind: "cancelled", message: `cancelled by ${by}` }, finishedAt: now },
    LIVE_STATES,
  );
  if (!changed) return "not-live";
  if (record.state === "blocked") {
    await new BlockedTasks(deps.redis, deps.prefix).drop(taskId, record.run);
    await deps.events.emit({ type: "task-changed", taskId });
    return "cancelled";
  }
  const removed = await deps.queues.removeWaiting(record.queue, record.jobId);
  if (!removed) await publishControl(deps.redis, deps.prefix, { type: "cancel", taskId });
  await deps.events.emit({ type: "task-changed", taskId });
  return "cancelled";
}
