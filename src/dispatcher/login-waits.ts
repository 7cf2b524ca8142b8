import type { Job } from "bullmq";
import type { TaskQueues } from "../queue/task-queues.js";
import type { TaskStore } from "../queue/task-store.js";
import { ACTIONS_QUEUE } from "./actions-queue.js";

/**
 * A runner's session-timeout issue was closed ("I logged in again"): the repository's runner
 * tasks that wait for a login are due now instead of at their fallback time, and the caller asks
 * the dispatcher for a pass (`IntakeDeps.dispatchNow`). Returns the task ids made due.
 */
export async function dispatchLoginWaitsNow(deps: { queues: TaskQueues; store: TaskStore }, owner: string, repo: string): Promise<string[]> {
  const due: string[] = [];
  for (const job of (await deps.queues.queue(ACTIONS_QUEUE).getJobs(["delayed"])) as Job[]) {
    const verdict = deps.queues.verify(job);
    if (!verdict.ok) continue;
    const task = verdict.task;
    if (task.repo.owner.toLowerCase() !== owner.toLowerCase() || task.repo.name.toLowerCase() !== repo.toLowerCase()) continue;
    const record = await deps.store.get(task.taskId);
    if (record?.run !== task.run || record.state !== "waiting" || record.failure?.kind !== "session-expired") continue;
    await job.promote().catch(() => undefined);
    due.push(task.taskId);
  }
  return due;
}
