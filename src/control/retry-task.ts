import { SpanKind } from "@opentelemetry/api";
import type { TaskData } from "../queue/task-data.js";
import type { TaskRecord } from "../queue/task-record.js";
import { traceField } from "../telemetry/trace-carrier.js";
import { withSpan } from "../telemetry/tracer.js";
import type { AgentRegistry } from "../store/agent-registry.js";
import { claimTask } from "../queue/task-factory.js";
import { taskQueueName, type TaskQueues } from "../queue/task-queues.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../queue/event-queue.js";
import { GENERAL } from "../shared/specialty.js";
import { LIVE_STATES } from "../shared/task-state.js";

export interface RetryDeps {
  store: TaskStore;
  queues: TaskQueues;
  events: EventQueue;
  registry: AgentRegistry;
  now?: () => number;
}

export type RetryOutcome =
  | { status: "queued"; taskId: string; run: number; specialty: string; queue: string }
  | { status: "not-found" }
  | { status: "already-live"; state: string }
  | { status: "no-job-data"; message: string };

/**
 * Runs a finished task again from the API or the CLI: a new run on the same branch and
 * specialty, rebuilt from the last run's job data (BullMQ keeps finished jobs for days), so
 * nothing has to be read from GitHub. A specialty no live agent serves goes to `general`, as
 * the router would send it.
 */
export async function retryTask(deps: RetryDeps, taskId: string, by: string): Promise<RetryOutcome> {
  const record = await deps.store.get(taskId);
  if (!record) return { status: "not-found" };
  if (LIVE_STATES.includes(record.state)) return { status: "already-live", state: record.state };
  const job = record.queue && record.jobId ? await deps.queues.queue(record.queue).getJob(record.jobId) : undefined;
  if (!job) {
    return {
      status: "no-job-data",
      message: `the last run's job (${record.jobId || "none"}) is no longer kept; comment \`/claude retry\` on the issue instead`,
    };
  }
  // The job sits in Redis: it is signed again for the new run only while the app's signature holds.
  const last = deps.queues.verify(job);
  if (!last.ok) {
    return {
      status: "no-job-data",
      message: `the last run's job (${record.jobId}) is not one the app signed (${last.reason}); comment \`/claude retry\` on the issue, which rebuilds the task from GitHub`,
    };
  }

  // The new run continues the task's trace: a child of the last run's carrier.
  const attributes = { "ccc.task.id": taskId, "ccc.trigger": "retry" };
  return withSpan("retry task", { kind: SpanKind.PRODUCER, parent: record.trace ?? last.task.trace, attributes }, async (span) => {
    const outcome = await queueRetry(deps, record, last.task, by);
    span.setAttributes({
      "ccc.outcome": outcome.status,
      ...(outcome.status === "queued" ? { "ccc.task.run": outcome.run, "ccc.specialty": outcome.specialty } : {}),
    });
    return outcome;
  });
}

async function queueRetry(deps: RetryDeps, record: TaskRecord, lastTask: TaskData, by: string): Promise<RetryOutcome> {
  const { taskId } = record;
  const live = await deps.registry.liveSpecialties();
  const specialty = live.has(record.specialty) ? record.specialty : GENERAL;
  const reason = specialty === record.specialty ? `retry by ${by}` : `retry by ${by}; no live agent serves ${record.specialty}`;
  const queue = taskQueueName(specialty);
  const now = (deps.now ?? Date.now)();
  // The last run's task, as a new run: the record is derived from it (task-factory).
  const { run: _lastRun, ...draft } = lastTask;
  const claim = await claimTask(deps.store, { ...draft, ...traceField(), specialty, reason, createdAt: now }, queue);
  if (!claim.created) return { status: "already-live", state: "queued" };
  const data = { ...claim.task, trigger: { ...lastTask.trigger, actor: by, deliveryId: `retry-${claim.task.run}-${now}` } };
  try {
    await deps.queues.add(data);
  } catch (error) {
    await deps.store.update(taskId, {
      state: "failed",
      failure: { kind: "unknown", message: `could not queue the retry: ${(error as Error).message}` },
      finishedAt: now,
    });
    throw error;
  }
  await deps.events.emit({ type: "task-changed", taskId });
  return { status: "queued", taskId, run: data.run, specialty, queue };
}
