import type { JobsOptions } from "bullmq";
import type { TaskData } from "../queue/task-data.js";
import { scheduledDelay, taskJobId, type TaskQueues } from "../queue/task-queues.js";
import type { TaskVerdict } from "../queue/task-signature.js";
import { bullmqPriority } from "../shared/priority.js";

/**
 * The one queue of tasks that run on self-hosted runners. Only the dispatcher reads it, so an
 * agent daemon never takes an actions-mode task; the dispatcher picks jobs by repository and
 * specialty according to which runners are idle.
 */
export const ACTIONS_QUEUE = "actions";

/** Adds an actions-mode task's run; the job id is the same `owner/repo#n@run` as in daemon mode. */
export async function addActionsTask(queues: TaskQueues, data: TaskData, delayMs = scheduledDelay(data)): Promise<{ queue: string; jobId: string }> {
  const jobId = taskJobId(data.taskId, data.run);
  const options: JobsOptions = {
    jobId,
    priority: bullmqPriority(data.priority),
    removeOnComplete: true,
    removeOnFail: true,
    ...(delayMs > 0 ? { delay: delayMs } : {}),
  };
  await queues.addSigned(ACTIONS_QUEUE, data, options);
  return { queue: ACTIONS_QUEUE, jobId };
}

/**
 * Queues a dispatched task again from the data its dispatch record kept, only if that data
 * still carries the app's signature: the record sits in Redis, and signing what was changed
 * there would launder it. Returns the verdict; nothing is queued when it is not ok.
 */
export async function requeueActionsTask(queues: TaskQueues, dispatch: { taskId: string; run: number; data: TaskData }, delayMs = 0): Promise<TaskVerdict> {
  const verdict = queues.verify({ id: taskJobId(dispatch.taskId, dispatch.run), queueName: ACTIONS_QUEUE, data: dispatch.data });
  if (verdict.ok) await addActionsTask(queues, verdict.task, delayMs);
  return verdict;
}
