import { context, propagation, trace } from "@opentelemetry/api";
import type { Logger } from "pino";
import { PRODUCT_VERSION } from "./product-version.js";
import { readTracingEnv, type TracedProcess, type TracingSettings } from "./tracing-env.js";

/** A process's tracing, as `startTracing` left it. */
export interface Tracing {
  /** Whether spans are exported (an OTLP endpoint is set and the SDK not disabled). */
  enabled: boolean;
  /** Spans lost since start: the batch queue was full, or their export failed or went unanswered. */
  droppedSpans(): number;
  /** Exports what is queued, waiting {@link SHUTDOWN_WAIT_MS} at most; then tracing is off. */
  shutdown(): Promise<void>;
}

/** The longest `shutdown()` waits for a last export: a collector that hangs never holds up an exit. */
export const SHUTDOWN_WAIT_MS = 3000;

const OFF: Tracing = { enabled: false, droppedSpans: () => 0, shutdown: async () => {} };

/**
 * Sets OpenTelemetry up for this process from the standard `OTEL_*` variables (tracing-env.ts):
 * off, at no cost but the API's no-op tracer, unless an OTLP endpoint is set. On, the SDK and
 * one exporter are loaded (dynamic imports), spans go through a bounded batch queue, and the
 * W3C propagator, the AsyncLocalStorage context manager and the tracer provider are registered
 * globally. A malformed value is named in one warning and its default used.
 */
export async function startTracing(service: TracedProcess, log: Logger, env: Record<string, string | undefined> = process.env): Promise<Tracing> {
  const { settings, problems } = readTracingEnv(service, env);
  if (problems.length > 0) log.warn({ problems }, `OpenTelemetry settings ignored: ${problems.join("; ")}`);
  if (!settings.enabled) return OFF;

  const [
    { BasicTracerProvider, BatchSpanProcessor },
    { resourceFromAttributes },
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    { DroppedSpans },
  ] = await Promise.all([
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/core"),
    import("./dropped-spans.js"),
  ]);

  let failures = 0;
  const dropped = new DroppedSpans(settings.batch.maxQueueSize, (spans, error) => {
    failures += 1;
    // The first failure of a run says so; a collector down for an hour does not fill the log.
    if (failures === 1 || failures % 100 === 0) {
      log.warn({ spans, failures, err: error?.message }, "OpenTelemetry: spans dropped, the collector did not take them");
    }
  });
  const exporter = dropped.watchExports(await createExporter(settings), settings.batch.exportTimeoutMillis);
  const processor = dropped.watchQueue(new BatchSpanProcessor(exporter, { ...settings.batch }));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...settings.resourceAttributes, "service.name": settings.serviceName, "service.version": PRODUCT_VERSION }),
    sampler: await createSampler(settings),
    spanProcessors: [processor],
  });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  log.info({ protocol: settings.protocol, url: withoutCredentials(settings.url), service: settings.serviceName }, "OpenTelemetry tracing on");

  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    droppedSpans: () => dropped.count(),
    shutdown: () => {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const waited = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), SHUTDOWN_WAIT_MS);
          timer.unref();
        });
        const outcome = await Promise.race([
          provider.shutdown().then(
            () => "done" as const,
            () => "failed" as const,
          ),
          waited,
        ]);
        clearTimeout(timer);
        if (outcome !== "done") log.warn({ outcome }, "OpenTelemetry: the last spans were not exported before shutdown");
        trace.disable();
        propagation.disable();
        context.disable();
      })();
      return stopping;
    },
  };
}

/** The URL as the log may show it: a user and password in it (`https://user:key@host`) are left out. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  return parsed.toString();
}

/** The OTLP exporter of the configured protocol, each loaded only when chosen. */
async function createExporter(settings: TracingSettings) {
  const common = { url: settings.url, timeoutMillis: settings.requestTimeoutMillis };
  switch (settings.protocol) {
    case "http/json": {
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
      return new OTLPTraceExporter({ ...common, headers: settings.headers });
    }
    case "grpc": {
      // gRPC metadata comes from OTEL_EXPORTER_OTLP_HEADERS, which the gRPC exporter reads itself.
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-grpc");
      return new OTLPTraceExporter(common);
    }
    default: {
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
      return new OTLPTraceExporter({ ...common, headers: settings.headers });
    }
  }
}

async function createSampler(settings: TracingSettings) {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = await import("@opentelemetry/sdk-trace-base");
  const { name, ratio } = settings.sampler;
  const root = name.endsWith("always_off")
    ? new AlwaysOffSampler()
    : name.endsWith("traceidratio")
      ? new TraceIdRatioBasedSampler(ratio)
      : new AlwaysOnSampler();
  return name.startsWith("parentbased_") ? new ParentBasedSampler({ root }) : root;
}
