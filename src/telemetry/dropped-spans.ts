import type { Context } from "@opentelemetry/api";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";

/**
 * Counts the spans a process lost: those the batch queue had no room for, and those whose
 * export failed or was not answered in time. The SDK only logs these; operators need a number
 * (`ccc_trace_spans_dropped_total`). Loaded with the SDK, only when tracing is on.
 */
export class DroppedSpans {
  private dropped = 0;
  /** Spans handed to the batch processor and not yet to the exporter: its queue, as it counts it. */
  private queued = 0;

  constructor(
    private readonly maxQueueSize: number,
    /** Told of each failed batch, to log the first of a run of failures. */
    private readonly onFailedExport: (spans: number, error: Error | undefined) => void = () => {},
  ) {}

  count(): number {
    return this.dropped;
  }

  /** `processor` (a BatchSpanProcessor) with the spans it will drop for want of room counted first. */
  watchQueue(processor: SpanProcessor): SpanProcessor {
    return {
      onStart: (span: Span, parent: Context) => processor.onStart(span, parent),
      onEnd: (span: ReadableSpan) => {
        // The batch processor skips unsampled spans and drops a sampled one when its queue is full.
        if ((span.spanContext().traceFlags & 1) === 1) {
          if (this.queued >= this.maxQueueSize) this.dropped += 1;
          else this.queued += 1;
        }
        processor.onEnd(span);
      },
      forceFlush: () => processor.forceFlush(),
      shutdown: () => processor.shutdown(),
    };
  }

  /**
   * `exporter` with failed and unanswered batches counted as dropped. An export not answered
   * within `timeoutMillis` (a collector that hangs) is counted then and its late answer ignored.
   */
  watchExports(exporter: SpanExporter, timeoutMillis: number): SpanExporter {
    return {
      export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => {
        this.queued = Math.max(0, this.queued - spans.length);
        let settled = false;
        const settle = (result: ExportResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (result.code !== 0) {
            this.dropped += spans.length;
            this.onFailedExport(spans.length, result.error);
          }
          done(result);
        };
        const timer = setTimeout(() => settle({ code: 1, error: new Error(`no answer from the collector in ${timeoutMillis} ms`) }), timeoutMillis);
        timer.unref();
        try {
          exporter.export(spans, settle);
        } catch (error) {
          settle({ code: 1, error: error as Error });
        }
      },
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
  }
}
