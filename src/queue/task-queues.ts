import { Queue, type JobsOptions } from "bullmq";
import type { RedisClient } from "../shared/redis-client.js";
import { bullmqPriority } from "../shared/priority.js";
import { UserFacingError } from "../shared/user-facing-error.js";
import { ageSeconds, COMPLETED_TASK_JOB_MAX_MS, QUEUE_EVENTS_MAX_LEN, readRetention, TASK_JOBS_KEPT, type Retention } from "./retention.js";
import type { TaskData } from "./task-data.js";
import type { TaskSecrets } from "../config/task-secret.js";
import { taskQueueName } from "./task-queue-name.js";
import { signTask, verifyTaskJob, type SignedTaskData, type TaskJob, type TaskVerdict } from "./task-signature.js";

// Apart, so that `ccc status` names the queues without loading BullMQ.
export { taskQueueName };

/** BullMQ job ids may not contain ':'; `owner/repo#n@run` cannot. */
export function taskJobId(taskId: string, run: number): string {
  return `${taskId}@${run}`;
}

export interface TaskAddOptions {
  /**
   * The caller saw in the claim's own step that no job holds this run's id (`TaskStore.claim`'s
   * `probe`): the leftover check is skipped. @defaultValue false
   */
  noLeftover?: boolean;
}

/** Attempts for errors worth retrying (network, CLI crash); the others fail at once. */
export const TASK_ATTEMPTS = 3;

export interface TaskQueuesOptions {
  connection: RedisClient;
  /**
   * `CCC_TASK_SECRET`: every task added is signed with the first key, and agents refuse a job
   * no key signed. Never stored in Redis. Without it the queues can be read, but adding a task
   * throws. @defaultValue none
   */
  secrets?: TaskSecrets | undefined;
  /** @defaultValue "ccc" */
  prefix?: string;
  /** First retry delay after a network error or CLI crash; doubles per attempt, with jitter. @defaultValue 30000 */
  retryDelayMs?: number;
  /** How long finished jobs are kept. @defaultValue readRetention() (the environment) */
  retention?: Retention;
}

/** The producer side of the task queues, shared by the app and the CLI. */
export class TaskQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly retention: Retention;

  constructor(private readonly options: TaskQueuesOptions) {
    this.retention = options.retention ?? readRetention();
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.options.connection,
        prefix: this.options.prefix ?? "ccc",
        streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Adds the task's run to its specialty's queue; returns the queue name and job id. A scheduled
   * task (`notBefore`) waits as a delayed job until then, unless `delayMs` says otherwise.
   */
  async add(data: TaskData, delayMs = scheduledDelay(data), options: TaskAddOptions = {}): Promise<{ queue: string; jobId: string }> {
    const queue = taskQueueName(data.specialty);
    const jobId = taskJobId(data.taskId, data.run);
    const jobOptions: JobsOptions = {
      jobId,
      priority: bullmqPriority(data.priority),
      attempts: TASK_ATTEMPTS,
      backoff: { type: "exponential", delay: this.options.retryDelayMs ?? 30_000, jitter: 0.5 },
      // The finished run's data is what `ccc retry` reruns: kept while its record is, for a
      // failed run; a week at most for a completed one, whose task ended in a PR or no changes.
      removeOnComplete: { age: ageSeconds(Math.min(COMPLETED_TASK_JOB_MAX_MS, this.retention.taskMs)), count: TASK_JOBS_KEPT },
      removeOnFail: { age: ageSeconds(this.retention.taskMs), count: TASK_JOBS_KEPT },
      ...(delayMs > 0 ? { delay: delayMs } : {}),
    };
    if (!options.noLeftover) await this.dropLeftover(queue, jobId);
    await this.addSigned(queue, data, jobOptions);
    return { queue, jobId };
  }

  /** The Redis key of job `jobId` on `queue`: its hash exists while BullMQ keeps the job. */
  jobKey(queue: string, jobId: string): string {
    return this.queue(queue).toKey(jobId);
  }

  /** Adds a task's job to `queue`, signed for it: the one way a task reaches any queue. */
  async addSigned(queue: string, data: TaskData, options: JobsOptions): Promise<void> {
    if (!this.options.secrets) throw new TaskSecretMissingError();
    await this.queue(queue).add("task", signTask(data, queue, this.options.secrets), options);
  }

  /**
   * The job data `addSigned` would put on `queue`, for a task held back before it is queued (a
   * blocked issue): whoever queues it later checks this signature first, as for a job.
   */
  sign(data: TaskData, queue: string): SignedTaskData {
    if (!this.options.secrets) throw new TaskSecretMissingError();
    return signTask(data, queue, this.options.secrets);
  }

  /** Whether a job read back from a queue is a task the app signed, unchanged. */
  verify(job: TaskJob): TaskVerdict {
    if (!this.options.secrets) throw new TaskSecretMissingError();
    return verifyTaskJob(job, this.options.secrets);
  }

  /**
   * BullMQ silently ignores an add whose job id exists. A finished job can outlive its task's
   * record (BullMQ drops old jobs only when another job of the queue finishes), and a task
   * whose record expired starts again at run 1: remove the old run's job, or the new run
   * would never be queued.
   */
  private async dropLeftover(queue: string, jobId: string): Promise<void> {
    const state = await this.queue(queue).getJobState(jobId);
    if (state === "completed" || state === "failed") await this.queue(queue).remove(jobId);
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

/** How long a scheduled task waits from now; 0 for one that is not scheduled or already due. */
export function scheduledDelay(data: Pick<TaskData, "notBefore">, now = Date.now()): number {
  return data.notBefore === undefined ? 0 : Math.max(0, data.notBefore - now);
}

/** Tasks are signed: a process without `CCC_TASK_SECRET` may look at the queues, not add to them. */
export class TaskSecretMissingError extends UserFacingError {
  override readonly name = "TaskSecretMissingError";
  declare readonly code: "task-secret-missing";
  constructor() {
    super("CCC_TASK_SECRET is not set, so no task can be signed or checked: copy CCC_TASK_SECRET from the app's .env into this process's environment", {
      code: "task-secret-missing",
    });
  }
}
