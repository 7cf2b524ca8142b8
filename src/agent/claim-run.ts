import type { Job } from "bullmq";
import type { TaskData } from "../queue/task-data.js";
import type { TaskRecord } from "../queue/task-record.js";
import { TASK_ATTEMPTS } from "../queue/task-queues.js";
import type { TaskContext } from "./task-context.js";

/** The task as this run found it, and the lease every later write of the run is made under. */
export interface ClaimedRun {
  record: TaskRecord;
  lease: string;
}

/**
 * Step 1 of a run: the task's record becomes this run's (`running`, this agent, a fresh lease).
 * A cancelled task, or a stale job from an earlier run, is dropped here: `undefined`.
 */
export async function claimRun(ctx: TaskContext, job: Job, token: string | undefined, data: TaskData): Promise<ClaimedRun | undefined> {
  const record = await ctx.store.get(data.taskId);
  if (!record || record.run !== data.run || record.state === "cancelled") return undefined;
  // The lease is this run's: every later write checks it, so a run that lost its lock while
  // its machine slept changes nothing once the task has been handed on.
  const lease = runLease(job, token);
  const started = await ctx.store.update(
    data.taskId,
    {
      state: "running",
      agent: ctx.options.name,
      account: ctx.options.account,
      startedAt: ctx.now(),
      attempt: job.attemptsMade + 1,
      maxAttempts: TASK_ATTEMPTS,
      progress: null,
      waitingFor: null,
      blockedBy: null,
      capped: null,
      resumed: null,
      tests: null,
      lease,
    },
    ["queued", "waiting", "running"],
  );
  return started ? { record, lease } : undefined;
}

/** The lease a run writes under: BullMQ's lock token for the job, unique per fetch. */
export function runLease(job: Job, token: string | undefined): string {
  return token ?? `${String(job.id)}:${job.processedOn ?? 0}`;
}
