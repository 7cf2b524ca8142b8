import type { RedisClient } from "../shared/redis-client.js";
import { bullmqPriority } from "../shared/priority.js";

/** The BullMQ keys of one task queue that the fetch order reads. */
export interface QueueKeys {
  name: string;
  keys: Readonly<Record<string, string>>;
  toKey(type: string): string;
}

/** One of a queue's BullMQ keys (`wait`, `prioritized`, `delayed`, `marker`). */
export function queueKey(queue: QueueKeys, type: "wait" | "prioritized" | "delayed" | "marker"): string {
  const key = queue.keys[type];
  if (key === undefined) throw new Error(`BullMQ queue ${queue.name} has no ${type} key`);
  return key;
}

/** The job a queue hands out next, with what orders it against the other queues' heads. */
export interface QueueHead {
  queue: string;
  jobId: string;
  /** BullMQ priority: 1 urgent … 4 low. */
  priority: number;
  /** When the job was added: older first among equal priorities. */
  timestamp: number;
}

export interface QueuePeek {
  heads: QueueHead[];
  /** When the first delayed job that is not due yet comes due (a scheduled task, a retry's backoff). */
  nextDueAt?: number;
}

/** BullMQ scores a delayed job by its due time × 0x1000 plus a counter. */
const DELAYED_SCORE_SCALE = 0x1000;
/** A job added without a priority ranks as `normal`. */
const UNRANKED = bullmqPriority("normal");

/**
 * Reads, for each queue, the job BullMQ's `moveToActive` would hand out next: the oldest of the
 * plain wait list, else the most urgent of the prioritized set; and a delayed job that is due,
 * which that same fetch promotes first. Two round trips whatever the number of queues.
 */
export async function peekQueues(redis: RedisClient, queues: readonly QueueKeys[], now: number): Promise<QueuePeek> {
  const peek = redis.pipeline();
  for (const queue of queues) {
    peek.lindex(queueKey(queue, "wait"), -1);
    peek.zrange(queueKey(queue, "prioritized"), 0, 0);
    peek.zrange(queueKey(queue, "delayed"), 0, 0, "WITHSCORES");
  }
  const replies = results(await peek.exec());
  const candidates: Array<{ queue: QueueKeys; jobId: string }> = [];
  let nextDueAt: number | undefined;
  queues.forEach((queue, i) => {
    const waiting = replies[i * 3] as string | null;
    const [prioritized] = replies[i * 3 + 1] as string[];
    const [delayedId, delayedScore] = replies[i * 3 + 2] as string[];
    const next = waiting ?? prioritized;
    if (next !== undefined) candidates.push({ queue, jobId: next });
    if (delayedId === undefined || delayedScore === undefined) return;
    const dueAt = Math.floor(Number(delayedScore) / DELAYED_SCORE_SCALE);
    if (dueAt <= now) candidates.push({ queue, jobId: delayedId });
    else nextDueAt = Math.min(nextDueAt ?? dueAt, dueAt);
  });
  if (candidates.length === 0) return nextDueAt === undefined ? { heads: [] } : { heads: [], nextDueAt };

  const read = redis.pipeline();
  for (const { queue, jobId } of candidates) read.hmget(queue.toKey(jobId), "priority", "timestamp");
  const fields = results(await read.exec()) as Array<[string | null, string | null]>;
  const heads: QueueHead[] = [];
  candidates.forEach(({ queue, jobId }, i) => {
    const [priority, timestamp] = fields[i]!;
    // Gone between the two reads: taken or removed.
    if (timestamp === null) return;
    heads.push({ queue: queue.name, jobId, priority: Number(priority) || UNRANKED, timestamp: Number(timestamp) });
  });
  return nextDueAt === undefined ? { heads } : { heads, nextDueAt };
}

/**
 * The head to fetch next over every queue an agent serves: the most urgent, then the oldest.
 * `admits` leaves out priorities the agent may not take now (an account near its budget). Pure.
 */
export function pickHead(heads: readonly QueueHead[], admits: (priority: number) => boolean = () => true): QueueHead | undefined {
  let best: QueueHead | undefined;
  for (const head of heads) {
    if (!admits(head.priority)) continue;
    if (!best || head.priority < best.priority || (head.priority === best.priority && head.timestamp < best.timestamp)) best = head;
  }
  return best;
}

function results(replies: Array<[Error | null, unknown]> | null): unknown[] {
  if (!replies) throw new Error("Redis pipeline was discarded");
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
