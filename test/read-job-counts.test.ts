import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJobCounts } from "../src/queue/read-job-counts.js";
import { taskQueueName, TaskQueues } from "../src/queue/task-queues.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

describe("job counts read without BullMQ (`ccc status`)", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  const name = taskQueueName("general");
  let queues: TaskQueues;
  let queue: Queue;
  let worker: Worker;

  beforeAll(() => {
    redis = connectRedis();
    // The queue as the app and the CLI make it, so that the prefix and keys are the product's.
    queues = new TaskQueues({ connection: redis, prefix });
    queue = queues.queue(name);
    worker = new Worker(name, null, { connection: redis.duplicate(), prefix, autorun: false });
  });

  afterAll(async () => {
    await worker.close();
    await queues.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const bullmqCounts = async () => {
    const c = await queue.getJobCounts("waiting", "prioritized", "active", "delayed", "failed");
    return { waiting: c.waiting, prioritized: c.prioritized, active: c.active, delayed: c.delayed, failed: c.failed };
  };

  it("counts an empty queue as zero everywhere", async () => {
    expect(await readJobCounts(redis, prefix, name)).toEqual({ waiting: 0, prioritized: 0, active: 0, delayed: 0, failed: 0 });
    expect(await readJobCounts(redis, prefix, name)).toEqual(await bullmqCounts());
  });

  it("gives the figures BullMQ gives for jobs waiting, prioritized, active, delayed and failed", async () => {
    await queue.add("task", {}, { jobId: "plain-1" });
    await queue.add("task", {}, { jobId: "plain-2" });
    for (const [i, priority] of [1, 2, 3].entries()) await queue.add("task", {}, { jobId: `prio-${i}`, priority });
    await queue.add("task", {}, { jobId: "later", delay: 3_600_000 });
    // Two jobs taken as an agent takes them; one of them then fails for good.
    const first = (await worker.getNextJob("token-1"))!;
    await worker.getNextJob("token-2");
    await first.moveToFailed(new Error("the task failed"), "token-1", false);

    const counts = await readJobCounts(redis, prefix, name);
    expect(counts).toEqual(await bullmqCounts());
    expect(counts.waiting + counts.prioritized).toBe(3);
    expect(counts).toMatchObject({ active: 1, delayed: 1, failed: 1 });
  });

  it("counts the queues a prefix names and no other", async () => {
    expect(await readJobCounts(redis, randomPrefix(), name)).toEqual({ waiting: 0, prioritized: 0, active: 0, delayed: 0, failed: 0 });
    expect(await readJobCounts(redis, prefix, taskQueueName("frontend"))).toEqual({ waiting: 0, prioritized: 0, active: 0, delayed: 0, failed: 0 });
  });
});
