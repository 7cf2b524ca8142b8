import { SpanKind } from "@opentelemetry/api";
import { DelayedError } from "bullmq";
import { EVENTS_QUEUE, type ReporterEvent } from "../queue/reporter-event.js";
import type { TaskStore } from "../queue/task-store.js";
import { tracingOn, withSpan } from "../telemetry/tracer.js";

/**
 * Handles one reporter event inside a CONSUMER span (`reporter <type>`) in the trace of the
 * span that sent it (the app's enqueue, an agent's run). A task's event sent without a trace
 * (an agent with tracing off) joins the task's own trace. Waiting (a lock, a rate limit, an
 * outage: BullMQ's DelayedError) is an outcome on the span, not an error; it is rethrown.
 */
export async function withEventSpan(event: ReporterEvent, jobId: string | undefined, store: TaskStore, handle: () => Promise<void>): Promise<void> {
  const attributes = {
    "messaging.system": "bullmq",
    "messaging.operation.type": "process",
    "messaging.destination.name": EVENTS_QUEUE,
    "messaging.message.id": String(jobId),
    "ccc.event.type": event.type,
    ...("taskId" in event ? { "ccc.task.id": event.taskId } : {}),
  };
  const parent = event.trace ?? ("taskId" in event && tracingOn() ? await store.traceOf(event.taskId) : undefined);
  const waiting = await withSpan(`reporter ${event.type}`, { kind: SpanKind.CONSUMER, parent, attributes }, async (span) => {
    try {
      await handle();
      return undefined;
    } catch (error) {
      if (!(error instanceof DelayedError)) throw error;
      span.setAttribute("ccc.outcome", "delayed");
      return error;
    }
  });
  if (waiting) throw waiting;
}
