import { context, isSpanContextValid, trace, type Link } from "@opentelemetry/api";
import { contextFrom, type TraceCarrier } from "../telemetry/trace-carrier.js";

/**
 * Where a new run's enqueue span goes: one trace per task. A task that ran before (a retry, a
 * re-label, a CI fix of the same PR) continues its own trace, linked to the delivery that
 * started this run; a first run is a child of the delivery. `follows` (a PR task's issue task)
 * is linked, not joined: the PR's work is its own task.
 */
export function runSpanOptions(previous: TraceCarrier | undefined, follows?: TraceCarrier): { parent?: TraceCarrier; links?: Link[] } {
  const links: Link[] = [];
  const delivery = trace.getSpanContext(context.active());
  if (previous && delivery && isSpanContextValid(delivery)) links.push({ context: delivery, attributes: { "ccc.link": "trigger" } });
  const original = follows ? trace.getSpanContext(contextFrom(follows)) : undefined;
  if (original && isSpanContextValid(original) && original.traceId !== trace.getSpanContext(contextFrom(previous))?.traceId) {
    links.push({ context: original, attributes: { "ccc.link": "follows-task" } });
  }
  return { ...(previous ? { parent: previous } : {}), ...(links.length > 0 ? { links } : {}) };
}
