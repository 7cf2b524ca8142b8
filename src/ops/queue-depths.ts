import type { TaskQueues } from "../queue/task-queues.js";
import { bullmqPriority, PRIORITIES, type Priority } from "../shared/priority.js";

/** Jobs on one task queue by BullMQ state, and the waiting ones by priority. */
export interface QueueDepth {
  queue: string;
  /** Ready to run: BullMQ's `waiting` plus `prioritized`. */
  waiting: number;
  active: number;
  /** Scheduled, backing off, or waiting for a usage-limit reset. */
  delayed: number;
  /** Kept failed jobs (30 days). */
  failed: number;
  /** Kept completed jobs (7 days). */
  completed: number;
  byPriority: Record<Priority, number>;
}

export async function queueDepths(queues: TaskQueues, names: readonly string[]): Promise<QueueDepth[]> {
  return Promise.all(
    names.map(async (name) => {
      const queue = queues.queue(name);
      const [counts, perPriority] = await Promise.all([
        queue.getJobCounts("waiting", "prioritized", "active", "delayed", "failed", "completed"),
        queue.getCountsPerPriority(PRIORITIES.map(bullmqPriority)),
      ]);
      const byPriority = Object.fromEntries(PRIORITIES.map((p) => [p, perPriority[String(bullmqPriority(p))] ?? 0])) as Record<Priority, number>;
      return {
        queue: name,
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        completed: counts.completed ?? 0,
        byPriority,
      };
    }),
  );
}
