import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { bullmqPriority } from "../shared/priority.js";
import type { TaskData } from "./task-data.js";

/** One queue per specialty; `general` is a specialty like the others. */
export function taskQueueName(specialty: string): string {
  return `tasks-${specialty}`;
}

/** BullMQ job ids may not contain ':'; `owner/repo#n@run` cannot. */
export function taskJobId(taskId: string, run: number): string {
  return `${taskId}@${run}`;
}

/** Attempts for errors worth retrying (network, CLI crash); the others fail at once. */
export const TASK_ATTEMPTS = 3;

export interface TaskQueuesOptions {
  connection: Redis;
  /** @defaultValue "ccc" */
  prefix?: string;
  /** First retry delay after a network error or CLI crash; doubles per attempt, with jitter. @defaultValue 30000 */
  retryDelayMs?: number;
}

/** The producer side of the task queues, shared by the app and the CLI. */
export class TaskQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly options: TaskQueuesOptions) {}

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.options.connection, prefix: this.options.prefix ?? "ccc" });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Adds the task's run to its specialty's queue; returns the queue name and job id. */
  async add(data: TaskData, delayMs = 0): Promise<{ queue: string; jobId: string }> {
    const queue = taskQueueName(data.specialty);
    const jobId = taskJobId(data.taskId, data.run);
    const options: JobsOptions = {
      jobId,
      priority: bullmqPriority(data.priority),
      attempts: TASK_ATTEMPTS,
      backoff: { type: "exponential", delay: this.options.retryDelayMs ?? 30_000, jitter: 0.5 },
      removeOnComplete: { age: 7 * 86_400, count: 5_000 },
      removeOnFail: { age: 30 * 86_400, count: 5_000 },
      ...(delayMs > 0 ? { delay: delayMs } : {}),
    };
    await this.queue(queue).add("task", data, options);
    return { queue, jobId };
  }

  /** Removes a job that no agent has taken yet. Returns false if it is running or gone. */
  async removeWaiting(queue: string, jobId: string): Promise<boolean> {
    const job = await this.queue(queue).getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    if (state !== "waiting" && state !== "delayed" && state !== "prioritized") return false;
    try {
      await job.remove();
      return true;
    } catch {
      // Taken by an agent between the check and the remove: it is running now.
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
