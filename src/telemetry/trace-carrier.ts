import { context, createTraceState, isSpanContextValid, trace, TraceFlags, type Context, type SpanContext } from "@opentelemetry/api";
import { traceCarrierSchema, type TraceCarrier } from "./trace-carrier-schema.js";

// The schema is apart (trace-carrier-schema.ts) so that what only stores or reads a carrier does not
// load @opentelemetry/api.
export { traceCarrierSchema, traceIdOf, type TraceCarrier } from "./trace-carrier-schema.js";

/** The carrier of `ctx`'s span (the active context's when omitted); undefined without a valid span context. */
export function carrierOf(ctx: Context = context.active()): TraceCarrier | undefined {
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
  const tracestate = spanContext.traceState?.serialize();
  const carrier = { traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`, ...(tracestate ? { tracestate } : {}) };
  // A tracestate past the bound is dropped rather than the whole carrier: the parent matters more.
  return traceCarrierSchema.safeParse(carrier).success ? carrier : { traceparent: carrier.traceparent };
}

/**
 * The active context with the carrier's span as its remote parent; the active context itself
 * when the carrier is absent or invalid. Written by hand (W3C Trace Context level 1) rather
 * than through the SDK's propagator, so that tasks carry their context with tracing off too,
 * at the cost of `@opentelemetry/api` alone.
 */
export function contextFrom(carrier: TraceCarrier | undefined): Context {
  const active = context.active();
  if (!carrier || !traceCarrierSchema.safeParse(carrier).success) return active;
  const [version, traceId, spanId, flags] = carrier.traceparent.split("-") as [string, string, string, string];
  if (version === "ff") return active;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(carrier.tracestate ? { traceState: createTraceState(carrier.tracestate) } : {}),
  };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(active, spanContext) : active;
}

/** `{ trace }` with the active span's carrier, or nothing: spread into job data or an event, it leaves them unchanged with tracing off. */
export function traceField(ctx?: Context): { trace?: TraceCarrier } {
  const carrier = carrierOf(ctx);
  return carrier ? { trace: carrier } : {};
}
