import { Worker, type Job } from "bullmq";
import type { RedisClient } from "../shared/redis-client.js";
import type { Logger } from "../shared/logger.js";

/**
 * A BullMQ worker whose jobs the agent fetches itself (`getNextJob` + `processJob`), so one
 * loop can choose across every queue it serves. BullMQ's own loop would fetch each queue on
 * its own and race the others. `startTimers` starts what that loop would have started:
 * renewing the locks of jobs in progress and moving stalled jobs back to their queue.
 */
export class TaskWorker extends Worker {
  private stalledTimer: NodeJS.Timeout | undefined;

  /**
   * BullMQ gives every worker a blocking connection for its own fetch loop. The agent's fetch
   * loop never blocks through a worker (`getNextJob` with `block: false`; it waits on every
   * queue's marker over its one connection), so a worker opens none: one connection per idle agent fewer per queue.
   */
  protected override createBackend(): void {
    this.backend = this.backendFactory(this.name, this.opts, {});
  }

  async startTimers(): Promise<void> {
    this.lockManager.start();
    await this.checkStalled();
  }

  override async close(force?: boolean): Promise<void> {
    clearTimeout(this.stalledTimer);
    this.stalledTimer = undefined;
    await super.close(force);
  }

  /**
   * BullMQ's stalled check, at its interval, but only while the queue has jobs in progress: with
   * none no job can stall, and an idle agent then sends one LLEN instead of the script's seven
   * commands. (The workers are built with `skipStalledCheck`, so BullMQ's own loop never runs.)
   */
  private async checkStalled(): Promise<void> {
    try {
      if ((await this.redis.llen(this.keys.active!)) > 0) {
        for (const jobId of await this.getBackend().moveStalledJobsToWait()) this.emit("stalled", jobId, "active");
      }
    } catch (error) {
      this.emit("error", error as Error);
    } finally {
      if (!this.closing) this.stalledTimer = setTimeout(() => void this.checkStalled(), this.opts.stalledInterval);
    }
  }

  private get redis(): RedisClient {
    return this.opts.connection as RedisClient;
  }
}

export interface TaskWorkerOptions {
  connection: RedisClient;
  prefix: string;
  /** BullMQ lock; renewed while this process lives, so a dead agent's task is retaken after it. */
  lockDurationMs: number;
  log: Logger;
  process: (job: Job, token: string | undefined) => Promise<string>;
  /** This process slept (a suspended PC) or lost Redis past these jobs' locks: they are someone else's now. */
  onLocksLost: (jobIds: string[]) => void;
}

/** One worker per queue, its timers started, for the agent's fetch loop to fetch through. */
export async function startTaskWorkers(queues: readonly string[], options: TaskWorkerOptions): Promise<TaskWorker[]> {
  const { lockDurationMs: lockDuration, log } = options;
  const workers = queues.map((name) => {
    const worker = new TaskWorker(name, (job, token) => options.process(job, token), {
      connection: options.connection,
      prefix: options.prefix,
      autorun: false,
      lockDuration,
      // A dead agent's job is back on the queue at most one lock plus one interval after its
      // last renewal; the check runs in every live agent serving the queue.
      stalledInterval: Math.min(10_000, Math.max(1_000, Math.round(lockDuration / 3))),
      // The reconciler in the app fails a task whose job stalled more often than this.
      maxStalledCount: 2,
      // TaskWorker runs BullMQ's check itself, only while the queue has jobs in progress.
      skipStalledCheck: true,
    });
    worker.on("error", (error) => log.warn({ err: error, queue: name }, "worker error"));
    worker.on("lockRenewalFailed", options.onLocksLost);
    return worker;
  });
  await Promise.all(workers.map((worker) => worker.startTimers()));
  return workers;
}
