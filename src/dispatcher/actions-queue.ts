import type { JobsOptions } from "bullmq";
import type { TaskData } from "../queue/task-data.js";
import { taskJobId, type TaskQueues } from "../queue/task-queues.js";
import { bullmqPriority } from "../shared/priority.js";

/**
 * The one queue of tasks that run on self-hosted runners. Only the dispatcher reads it, so an
 * agent daemon never takes an actions-mode task; the dispatcher picks jobs by repository and
 * specialty according to which runners are idle.
 */
export const ACTIONS_QUEUE = "actions";

/** Adds an actions-mode task's run; the job id is the same `owner/repo#n@run` as in daemon mode. */
export async function addActionsTask(queues: TaskQueues, data: TaskData, delayMs = 0): Promise<{ queue: string; jobId: string }> {
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
