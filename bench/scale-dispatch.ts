import { taskQueueName, TaskQueues } from "../src/queue/task-queues.js";
import { TaskStore } from "../src/queue/task-store.js";
import type { RedisClient } from "../src/shared/redis-client.js";
import { GENERAL } from "../src/shared/specialty.js";
import { enqueueOne, type Queued } from "./idle-agents.js";

const CLAIM_TIMEOUT_MS = 180_000;
/** Between two tasks timed one at a time, so each finds every agent idle again. */
const PAUSE_MS = 100;

/** How tasks are added: each once the previous is claimed, at a steady rate, or all at once. */
export type DispatchPhase = { kind: "one-at-a-time"; count: number } | { kind: "rate"; count: number; perSecond: number } | { kind: "burst"; count: number };

export interface DispatchFigures {
  /** Job added → the agent's claim (the record's startedAt), per task. */
  claimMs: number[];
  /** Job added → fetched (BullMQ's processedOn), per task. */
  fetchedMs: number[];
  /** Different agents that claimed one. */
  agents: number;
  /** First add → last claim. */
  wallMs: number;
}

/**
 * Tasks on tasks-general, added by the product's own claim and enqueue, timed from the job's
 * add to the claim of the agent that took it. Task numbers go on from `first`, one issue each.
 */
export class DispatchTimer {
  private readonly store: TaskStore;
  private readonly queues: TaskQueues;
  private next = 1;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    secret: string,
  ) {
    this.store = new TaskStore(redis, prefix);
    this.queues = new TaskQueues({ connection: redis, prefix, secrets: [secret] });
  }

  async run(phase: DispatchPhase): Promise<DispatchFigures> {
    const deps = { store: this.store, queues: this.queues, cloneUrl: "https://github.com/bench/idle.git" };
    const queued: Queued[] = [];
    const claimed = new Map<string, { startedAt: number; agent: string }>();
    if (phase.kind === "one-at-a-time") {
      for (let i = 0; i < phase.count; i++) {
        const task = await enqueueOne(this.next++, deps);
        queued.push(task);
        await this.waitForClaims([task], claimed, 5);
        await sleep(PAUSE_MS);
      }
    } else {
      const sent: Array<Promise<Queued>> = [];
      const t0 = performance.now();
      for (let i = 0; i < phase.count; i++) {
        if (phase.kind === "rate") {
          const wait = t0 + (i * 1000) / phase.perSecond - performance.now();
          if (wait > 0) await sleep(wait);
        }
        sent.push(enqueueOne(this.next++, deps));
      }
      queued.push(...(await Promise.all(sent)));
      await this.waitForClaims(queued, claimed, 100);
    }
    const jobs = (task: Queued) => `${this.prefix}:${taskQueueName(GENERAL)}:${task.jobId}`;
    const processedOn = await Promise.all(queued.map((task) => this.redis.hget(jobs(task), "processedOn")));
    const claims = queued.map((task) => claimed.get(task.taskId)!);
    return {
      claimMs: queued.map((task, i) => claims[i]!.startedAt - task.enqueuedAt),
      fetchedMs: queued.map((task, i) => Number(processedOn[i]) - task.enqueuedAt),
      agents: new Set(claims.map((c) => c.agent)).size,
      wallMs: Math.max(...claims.map((c) => c.startedAt)) - Math.min(...queued.map((task) => task.enqueuedAt)),
    };
  }

  async close(): Promise<void> {
    await this.queues.close();
  }

  private async waitForClaims(queued: readonly Queued[], claimed: Map<string, { startedAt: number; agent: string }>, pollMs: number): Promise<void> {
    const deadline = Date.now() + CLAIM_TIMEOUT_MS;
    for (;;) {
      const open = queued.filter((task) => !claimed.has(task.taskId));
      if (open.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${open.length} of ${queued.length} tasks were not claimed within ${CLAIM_TIMEOUT_MS / 1000} s`);
      const records = await Promise.all(open.map((task) => this.store.get(task.taskId)));
      records.forEach((record, i) => {
        if (record?.startedAt !== undefined && record.agent !== undefined) claimed.set(open[i]!.taskId, { startedAt: record.startedAt, agent: record.agent });
      });
      await sleep(pollMs);
    }
  }
}

function sleep(msToWait: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, msToWait));
}
