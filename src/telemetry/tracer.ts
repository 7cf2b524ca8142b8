import { context, ProxyTracerProvider, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type SpanKind } from "@opentelemetry/api";
import { redactSecrets } from "../shared/redact.js";
import { contextFrom, type TraceCarrier } from "./trace-carrier.js";
import { PRODUCT_VERSION } from "./product-version.js";

const TRACER_NAME = "claude-code-cluster";

/**
 * The product's one tracer. Without `startTracing` (tracing off) it is the API's no-op tracer:
 * spans cost an object each and record nothing. It binds to the first provider it sees for the
 * life of the process; `withSpan` asks the API afresh, so a test may start tracing twice.
 */
export const tracer = trace.getTracer(TRACER_NAME, PRODUCT_VERSION);

/**
 * Whether spans are recorded (startTracing registered a provider): for the rare span whose
 * parent costs a read to find, so that tracing off costs nothing.
 */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(TRACER_NAME, PRODUCT_VERSION) !== undefined;
}

export interface WithSpanOptions {
  /** Ids, names, numbers and outcomes only: never what a user wrote, nor a token. */
  attributes?: Attributes;
  /** The parent: a carrier from Redis, or a context; the active context when omitted. */
  parent?: TraceCarrier | Context;
  kind?: SpanKind;
  /** Other traces this span continues (a PR follow-up links to its issue's task). */
  links?: Link[];
}

/**
 * Runs `fn` inside a new span, active for everything `fn` awaits. A throw marks the span
 * ERROR with the exception recorded, and is rethrown; the span ends either way.
 */
export async function withSpan<T>(name: string, options: WithSpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = isCarrier(options.parent) ? contextFrom(options.parent) : (options.parent ?? context.active());
  const span = trace.getTracer(TRACER_NAME, PRODUCT_VERSION).startSpan(
    name,
    {
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.kind !== undefined ? { kind: options.kind } : {}),
      ...(options.links ? { links: options.links } : {}),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** ERROR status and the exception on `span`, its message and stack through the one redaction table. */
export function markFailed(span: Span, error: unknown): void {
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  const name = error instanceof Error ? error.name : "Error";
  const stack = error instanceof Error && error.stack ? redactSecrets(error.stack) : undefined;
  span.recordException({ name, message, ...(stack ? { stack } : {}) });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

function isCarrier(parent: TraceCarrier | Context | undefined): parent is TraceCarrier {
  return typeof parent === "object" && parent !== null && typeof (parent as Partial<TraceCarrier>).traceparent === "string";
}
