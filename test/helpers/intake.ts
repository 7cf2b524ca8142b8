import type { RedisClient } from "../../src/shared/redis-client.js";
import { Queue } from "bullmq";
import { AgentRegistry } from "../../src/store/agent-registry.js";
import type { IntakeDeps } from "../../src/app/intake-deps.js";
import { TaskQueues } from "../../src/queue/task-queues.js";
import { TaskStore } from "../../src/queue/task-store.js";
import { EventQueue } from "../../src/queue/event-queue.js";
import { silentLogger } from "../../src/shared/logger.js";
import { TEST_TASK_SECRETS } from "./task-secret.js";

/** The app's dependencies on a real Redis under a private prefix. */
export function intakeDeps(redis: RedisClient, prefix: string): IntakeDeps {
  const registry = new AgentRegistry(redis, prefix);
  return {
    redis,
    prefix,
    store: new TaskStore(redis, prefix),
    queues: new TaskQueues({ connection: redis, prefix, secrets: TEST_TASK_SECRETS }),
    events: new EventQueue({ connection: redis, prefix }),
    registry,
    // No cache: tests register agents and expect the very next delivery to see them.
    liveSpecialties: () => registry.liveSpecialties(),
    log: silentLogger,
    permissionCacheSeconds: 60,
    configCacheSeconds: 60,
  };
}

export async function closeIntakeDeps(deps: IntakeDeps): Promise<void> {
  await Promise.all([deps.queues.close(), deps.events.close()]);
}

/** Jobs waiting on a queue, in the order an agent would take them. */
export async function waitingJobs(redis: RedisClient, prefix: string, name: string) {
  const queue = new Queue(name, { connection: redis, prefix });
  try {
    return await queue.getJobs(["prioritized", "waiting", "delayed"]);
  } finally {
    await queue.close();
  }
}

/** Events waiting for the reporter. */
export async function pendingEvents(redis: RedisClient, prefix: string) {
  const jobs = await waitingJobs(redis, prefix, "events");
  return jobs.map((j) => j.data as { type: string; body?: string; taskId?: string });
}

/** Whether the reporter has nothing left to do: no event waiting, delayed or being handled. */
export async function eventsDrained(redis: RedisClient, prefix: string): Promise<boolean> {
  const queue = new Queue("events", { connection: redis, prefix });
  try {
    const counts = await queue.getJobCounts("waiting", "prioritized", "active", "delayed");
    return Object.values(counts).every((n) => n === 0);
  } finally {
    await queue.close();
  }
}

/** A heartbeat the agent sent after `since`: proof it was alive and looked at its gate after that moment. */
export async function heartbeatAfter(deps: IntakeDeps, agent: string, since: number) {
  const info = (await deps.registry.list()).find((a) => a.name === agent);
  return info && info.lastSeen > since ? info : undefined;
}
