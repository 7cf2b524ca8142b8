import { UnrecoverableError, type Job } from "bullmq";
import { taskDataSchema, type TaskData } from "./task-data.js";
import type { TaskSecrets } from "../config/task-secret.js";
import { refusalMessage, verifyTaskJob, type TaskRefusal } from "./task-signature.js";
import type { TaskStore } from "./task-store.js";
import type { EventQueue } from "./event-queue.js";
import type { Logger } from "../shared/logger.js";

export interface RefusalDeps {
  store: TaskStore;
  events: EventQueue;
  log: Logger;
  now: () => number;
}

/**
 * The task in a job the app signed, unchanged; anything else is refused before any of it is
 * used: no clone, no Claude run, no retry (UnrecoverableError), an error in the log.
 */
export async function verifyJob(deps: RefusalDeps & { secrets: TaskSecrets; agent: string }, job: Job): Promise<TaskData> {
  const verdict = verifyTaskJob(job, deps.secrets);
  if (verdict.ok) return verdict.task;
  deps.log.error(
    { jobId: job.id, queue: job.queueName, reason: verdict.reason },
    `refused a task job: ${verdict.reason}; it was not queued by this cluster's app as it stands (or CCC_TASK_SECRET differs between the app and this agent)`,
  );
  await settleRefusedTask(deps, job, verdict.reason, `agent \`${deps.agent}\``).catch((error: Error) =>
    deps.log.warn({ err: error, jobId: job.id }, "could not mark the refused job's task failed; the reconciler will when it sees the failed job"),
  );
  throw new UnrecoverableError(`task refused: ${verdict.reason}`);
}

/**
 * A refused job that is the current run of a queued or waiting task (the app's own job, altered
 * in Redis) leaves that task with no job: fail it, so the issue says why instead of "queued"
 * forever. The record is the app's; only its fixed message is written, nothing from the job.
 */
export async function settleRefusedTask(deps: RefusalDeps, job: Job, reason: TaskRefusal, by: string): Promise<void> {
  const claimed = taskDataSchema.safeParse(job.data);
  if (!claimed.success) return;
  const record = await deps.store.get(claimed.data.taskId);
  if (!record || record.run !== claimed.data.run || record.jobId !== job.id || record.queue !== job.queueName) return;
  const failure = { kind: "invalid-request" as const, message: refusalMessage(reason, by) };
  const failed = await deps.store.update(record.taskId, { state: "failed", failure, finishedAt: deps.now(), agent: null, progress: null, blockedBy: null }, [
    "queued",
    "waiting",
  ]);
  if (failed) await deps.events.emit({ type: "task-changed", taskId: record.taskId });
}
