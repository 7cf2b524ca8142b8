import type { RedisClient } from "../shared/redis-client.js";

/** A queue's jobs in the states `ccc status` shows, as BullMQ's `Queue.getJobCounts` counts them. */
export interface JobCounts {
  /** BullMQ's `waiting`: ready, no priority. */
  waiting: number;
  /** Ready, with a priority (every task has one). */
  prioritized: number;
  active: number;
  delayed: number;
  failed: number;
}

/**
 * One queue's job counts read from BullMQ's own keys, `<prefix>:<queue>:<state>`, with the LLEN
 * and ZCARD its `getCounts` script runs, so that `ccc status` does not load BullMQ (about 170
 * modules, the larger part of the command's start-up). `prefix` is the one the queues are made
 * with (TaskQueues). test/read-job-counts.test.ts compares every figure with BullMQ's own, so
 * an upgrade that moves a key fails there.
 */
export async function readJobCounts(redis: RedisClient, prefix: string, queue: string): Promise<JobCounts> {
  const key = (state: string) => `${prefix}:${queue}:${state}`;
  const [waiting, prioritized, active, delayed, failed] = await Promise.all([
    redis.llen(key("wait")),
    redis.zcard(key("prioritized")),
    redis.llen(key("active")),
    redis.zcard(key("delayed")),
    redis.zcard(key("failed")),
  ]);
  return { waiting, prioritized, active, delayed, failed };
}
