import { DelayedError, UnrecoverableError, WaitingError, type Job } from "bullmq";
import { taskDataSchema } from "../queue/task-data.js";
import { GitError } from "../workspace/errors.js";
import { TASK_ATTEMPTS } from "../queue/task-queues.js";
import { runLease } from "./process-task.js";
import type { TaskContext } from "./task-context.js";

/** Errors through which the processor already told BullMQ what to do with the job. */
export function isJobControl(error: unknown): boolean {
  return error instanceof DelayedError || error instanceof WaitingError || error instanceof UnrecoverableError;
}

/**
 * Records an error the processor did not expect (git fetch failing, Redis blinking) on the
 * task, so the issue shows "attempt n/3" or the failure instead of a task stuck "running".
 */
export async function recordUnexpectedError(ctx: TaskContext, job: Job, token: string | undefined, error: Error): Promise<void> {
  const parsed = taskDataSchema.safeParse(job.data);
  if (!parsed.success) return;
  const taskId = parsed.data.taskId;
  // A git step that refused a tampered worktree would refuse again: fail at once.
  const last = job.attemptsMade + 1 >= TASK_ATTEMPTS || (error instanceof GitError && !error.retryable);
  const failure = { kind: "crash" as const, message: error.message.slice(0, 500) };
  await ctx.store.update(taskId, last ? { state: "failed", failure, finishedAt: ctx.now() } : { state: "queued", failure, agent: null }, ["running"], {
    lease: runLease(job, token),
  });
  await ctx.events.emit({ type: "task-changed", taskId });
}
