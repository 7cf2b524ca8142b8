import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import type { Job } from "bullmq";
import type { TaskData } from "../queue/task-data.js";
import { taskSpanAttributes } from "../queue/task-span-attributes.js";
import { contextFrom } from "../telemetry/trace-carrier.js";
import { tracer } from "../telemetry/tracer.js";
import type { PreparedWorktree } from "../workspace/workspace.js";

/**
 * The agent's part of a task's trace (docs/observability.md, "Agent spans"). Ids, names,
 * numbers and outcomes only: never the text, the prompt, the transcript, the test
 * command or a secret. With tracing off every span here is the API's no-op.
 */

/** What names the task on each of the agent's spans: the task's own (as the Action names it too), its job and the agent. */
export function taskAttributes(data: TaskData, job: Job, agent: string): Attributes {
  return {
    ...taskSpanAttributes(data),
    "ccc.task.attempt": job.attemptsMade + 1,
    "ccc.agent": agent,
    "messaging.system": "bullmq",
    "messaging.destination.name": job.queueName,
    "messaging.message.id": String(job.id),
  };
}

/**
 * The job's wait on its queue, from when it was added (or came due, for a scheduled task or a
 * retry's backoff) to this pick-up: a span drawn after the fact under the task's trace.
 */
export function recordQueueWait(data: TaskData, job: Job, now: number): void {
  const added = job.timestamp;
  const due = Math.max(added + (job.opts.delay ?? 0), data.notBefore ?? 0);
  const start = Math.min(due, now);
  const span = tracer.startSpan(
    "queue wait",
    { kind: SpanKind.CONSUMER, startTime: start, attributes: { "messaging.destination.name": job.queueName, "ccc.queue.wait_ms": now - start } },
    contextFrom(data.trace),
  );
  span.end(now);
}

/** A test command's end on its span: passed or not, its exit code and how long it took. Never the command or its output. */
export function recordTestRun(span: Span, ran: { exitCode: number | null; timedOut: boolean; durationMs: number }): void {
  span.setAttributes({
    "ccc.test.passed": ran.exitCode === 0,
    "ccc.test.timed_out": ran.timedOut,
    "ccc.duration_ms": Math.round(ran.durationMs),
    ...(ran.exitCode !== null ? { "process.exit.code": ran.exitCode } : {}),
  });
  if (ran.exitCode !== 0) span.setStatus({ code: SpanStatusCode.ERROR, message: ran.timedOut ? "timed out" : "tests failed" });
}

/** The mirror fetch and the worktree as two spans under the active one, from the workspace's own timings. */
export function recordWorkspaceTimings(prepared: PreparedWorktree, startedAt: number): void {
  const parent = trace.getActiveSpan();
  if (!parent?.isRecording()) return;
  parent.setAttribute("ccc.workspace.reused_branch", prepared.reusedBranch);
  const { mirrorMs, worktreeMs } = prepared.timings;
  if (mirrorMs > 0)
    tracer.startSpan("mirror fetch", { startTime: startedAt, attributes: { "ccc.duration_ms": Math.round(mirrorMs) } }).end(startedAt + mirrorMs);
  tracer
    .startSpan("worktree", { startTime: startedAt + mirrorMs, attributes: { "ccc.duration_ms": Math.round(worktreeMs) } })
    .end(startedAt + mirrorMs + worktreeMs);
}
