import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/shared/logger.js";
import { carrierOf, contextFrom, traceCarrierSchema, traceField, traceIdOf } from "../src/telemetry/trace-carrier.js";
import { tracingOn, withSpan } from "../src/telemetry/tracer.js";
import { startInMemoryTracing } from "./helpers/in-memory-tracing.js";

const CARRIER = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };

describe("the trace carrier, with tracing off", () => {
  it("has nothing to carry outside a span, so job data stays as it was", () => {
    expect(carrierOf()).toBeUndefined();
    expect(traceField()).toEqual({});
  });

  it("reads a carrier back into the same carrier, tracestate included", () => {
    const carrier = { ...CARRIER, tracestate: "vendor=abc,other=1" };
    expect(carrierOf(contextFrom(carrier))).toEqual(carrier);
    expect(traceIdOf(carrier)).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("keeps the sampled flag and nothing else", () => {
    expect(carrierOf(contextFrom({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" }))?.traceparent).toMatch(/-00$/);
    expect(carrierOf(contextFrom({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03" }))?.traceparent).toMatch(/-01$/);
  });

  it.each([
    ["no carrier", undefined],
    ["an all-zero trace id", { traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" }],
    ["an all-zero span id", { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01" }],
    ["the forbidden version ff", { traceparent: "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }],
    ["upper-case hex", { traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01" }],
    ["a short trace id", { traceparent: "00-4bf92f35-00f067aa0ba902b7-01" }],
  ])("gives the active context back for %s", (_name, carrier) => {
    expect(contextFrom(carrier as never)).toBe(context.active());
  });

  it("refuses a malformed traceparent or an unbounded tracestate in stored data", () => {
    expect(traceCarrierSchema.safeParse({ traceparent: "hello" }).success).toBe(false);
    expect(traceCarrierSchema.safeParse({ ...CARRIER, tracestate: "a=".padEnd(600, "b") }).success).toBe(false);
    expect(traceCarrierSchema.safeParse(CARRIER).success).toBe(true);
  });

  it("says tracing is off", () => {
    expect(tracingOn()).toBe(false);
  });

  it("runs withSpan's function with the API's no-op span and returns its value", async () => {
    await expect(withSpan("noop", {}, async (span) => span.isRecording())).resolves.toBe(false);
  });
});

describe("spans with tracing on", () => {
  let tracing: ReturnType<typeof startInMemoryTracing>;
  beforeAll(() => {
    tracing = startInMemoryTracing();
  });
  afterEach(() => tracing.reset());
  afterAll(() => tracing.stop());

  it("says tracing is on", () => {
    expect(tracingOn()).toBe(true);
  });

  it("makes the new span active through awaits, so a carrier taken inside names it", async () => {
    const inside = await withSpan("outer", {}, async (span) => {
      await new Promise((resolve) => setImmediate(resolve));
      return { carrier: carrierOf(), spanId: span.spanContext().spanId, traceId: span.spanContext().traceId };
    });
    expect(inside.carrier?.traceparent).toBe(`00-${inside.traceId}-${inside.spanId}-01`);
    expect(carrierOf()).toBeUndefined();
  });

  it("continues the trace a carrier names, as the child of its span", async () => {
    await withSpan("child", { parent: CARRIER, kind: SpanKind.CONSUMER, attributes: { "ccc.task.id": "o/r#1" } }, async () => {});
    const [span] = tracing.spans();
    expect(span?.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(span?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.attributes).toEqual({ "ccc.task.id": "o/r#1" });
  });

  it("marks a span that throws as an error with the exception recorded, ends it, and rethrows", async () => {
    await expect(
      withSpan("fails", {}, async () => {
        throw new Error("GitHub said 502 (token ghp_16C7e42F292c6912E7710c838347Ae178B4a)");
      }),
    ).rejects.toThrow("GitHub said 502");
    const [span] = tracing.spans();
    expect(span?.ended).toBe(true);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.events.map((event) => event.name)).toEqual(["exception"]);
    // The one redaction table reaches span data too.
    expect(JSON.stringify([span?.status, span?.events])).not.toContain("ghp_16C7e42F");
  });

  it("ends a span whose function returns, with its status left unset", async () => {
    await withSpan("works", {}, async () => 1);
    expect(tracing.spans()[0]?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("links a span to another trace", async () => {
    const linked = trace.getSpanContext(contextFrom(CARRIER))!;
    await withSpan("follow-up", { links: [{ context: linked }] }, async () => {});
    const [span] = tracing.spans();
    expect(span?.links[0]?.context.traceId).toBe(linked.traceId);
    expect(span?.spanContext().traceId).not.toBe(linked.traceId);
  });

  it("puts trace_id and span_id on every log line written inside a span, and none outside", async () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ format: "json", destination }).child({ name: "worker", taskId: "o/r#1" });
    log.info("before");
    const ids = await withSpan("logged", {}, async (span) => {
      log.info("inside");
      return span.spanContext();
    });
    log.info("after");
    const lines = chunks
      .join("")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => [line.msg, line.trace_id, line.span_id])).toEqual([
      ["before", undefined, undefined],
      ["inside", ids.traceId, ids.spanId],
      ["after", undefined, undefined],
    ]);
    expect(lines[1]?.module).toBe("worker");
  });
});
