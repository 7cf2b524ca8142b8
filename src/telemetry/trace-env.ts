import { carrierOf } from "./trace-carrier.js";

/**
 * What an executor is given to join the trace: the active span's W3C context as `TRACEPARENT`
 * and `TRACESTATE`, which Claude Code reads in headless mode (docs/observability.md). Empty
 * with tracing off. The agent and the Action both call it inside their "executor run" span.
 */
export function traceEnv(): Record<string, string> {
  const carrier = carrierOf();
  if (!carrier) return {};
  return { TRACEPARENT: carrier.traceparent, ...(carrier.tracestate ? { TRACESTATE: carrier.tracestate } : {}) };
}
