import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../src/shared/logger.js";
import { startTracing, type Tracing } from "../src/telemetry/start-tracing.js";
import { readTracingEnv } from "../src/telemetry/tracing-env.js";
import { withSpan } from "../src/telemetry/tracer.js";

const ON = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" };

describe("the OTEL_* settings", () => {
  it("are off with no endpoint, and the defaults say what the spec says", () => {
    const { settings, problems } = readTracingEnv("app", {});
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({
      enabled: false,
      protocol: "http/protobuf",
      url: "http://localhost:4318/v1/traces",
      sampler: { name: "parentbased_always_on", ratio: 1 },
      batch: { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000, exportTimeoutMillis: 30_000 },
      serviceName: "ccc-app",
    });
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }, "http/protobuf", "http://collector:4318/v1/traces"],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://x.example/otlp/traces", ...ON }, "http/protobuf", "https://x.example/otlp/traces"],
    [{ ...ON, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, "http/json", "http://127.0.0.1:4318/v1/traces"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, "grpc", "http://collector:4317"],
    [{ ...ON, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" }, "http/json", "http://127.0.0.1:4318/v1/traces"],
  ])("turn on with an endpoint: %j", (env, protocol, url) => {
    const { settings, problems } = readTracingEnv("agent", env);
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({ enabled: true, protocol, url, serviceName: "ccc-agent" });
  });

  it.each([{ OTEL_SDK_DISABLED: "true" }, { OTEL_SDK_DISABLED: "TRUE" }, { OTEL_TRACES_EXPORTER: "none" }])("stay off when disabled: %j", (off) => {
    expect(readTracingEnv("app", { ...ON, ...off }).settings.enabled).toBe(false);
  });

  it("read headers, sampler, batch sizes and resource attributes", () => {
    const { settings, problems } = readTracingEnv("dispatcher", {
      ...ON,
      OTEL_EXPORTER_OTLP_HEADERS: "x-honeycomb-team=abc%3D,x-b=1",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-b=2",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_BSP_MAX_QUEUE_SIZE: "100",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "10",
      OTEL_BSP_SCHEDULE_DELAY: "50",
      OTEL_BSP_EXPORT_TIMEOUT: "1000",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,service.namespace=ccc",
    });
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({
      headers: { "x-honeycomb-team": "abc=", "x-b": "2" },
      sampler: { name: "parentbased_traceidratio", ratio: 0.25 },
      batch: { maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelayMillis: 50, exportTimeoutMillis: 1000 },
      resourceAttributes: { "deployment.environment": "prod", "service.namespace": "ccc" },
      serviceName: "ccc-dispatcher",
    });
  });

  it("take the service name from OTEL_SERVICE_NAME first, then the resource attributes", () => {
    expect(readTracingEnv("app", { OTEL_RESOURCE_ATTRIBUTES: "service.name=ours" }).settings.serviceName).toBe("ours");
    expect(readTracingEnv("app", { OTEL_RESOURCE_ATTRIBUTES: "service.name=ours", OTEL_SERVICE_NAME: "mine" }).settings.serviceName).toBe("mine");
  });

  it.each([
    ["OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml", { protocol: "http/protobuf" }],
    ["OTEL_TRACES_SAMPLER", "sometimes", { sampler: { name: "parentbased_always_on", ratio: 1 } }],
    ["OTEL_TRACES_SAMPLER_ARG", "1.5", { sampler: { name: "traceidratio", ratio: 1 } }],
    ["OTEL_BSP_MAX_QUEUE_SIZE", "lots", { batch: { maxQueueSize: 2048 } }],
    ["OTEL_BSP_SCHEDULE_DELAY", "-5", { batch: { scheduledDelayMillis: 5000 } }],
    ["OTEL_BSP_EXPORT_TIMEOUT", "1e3", { batch: { exportTimeoutMillis: 30_000 } }],
    ["OTEL_EXPORTER_OTLP_TIMEOUT", "0", { requestTimeoutMillis: 10_000 }],
    ["OTEL_EXPORTER_OTLP_HEADERS", "api-key", { headers: {} }],
    ["OTEL_RESOURCE_ATTRIBUTES", "a=%E0%A4%A", { resourceAttributes: {} }],
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", { enabled: true, url: "http://localhost:4318/v1/traces" }],
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "not a url", { enabled: true, url: "http://localhost:4318/v1/traces" }],
  ])("name a malformed %s and use its default", (name, bad, expected) => {
    const env = { ...ON, [name]: bad, ...(name === "OTEL_TRACES_SAMPLER_ARG" ? { OTEL_TRACES_SAMPLER: "traceidratio" } : {}) };
    const { settings, problems } = readTracingEnv("app", env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
    expect(settings).toMatchObject(expected);
  });

  it("never put a header's value in a warning: headers hold API keys", () => {
    const { problems } = readTracingEnv("app", { ...ON, OTEL_EXPORTER_OTLP_HEADERS: "x-key=secret-value,broken" });
    expect(problems.join()).not.toContain("secret-value");
  });

  it("cap the batch size at the queue size", () => {
    const { settings, problems } = readTracingEnv("app", { ...ON, OTEL_BSP_MAX_QUEUE_SIZE: "8", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "64" });
    expect(settings.batch.maxExportBatchSize).toBe(8);
    expect(problems[0]).toContain("OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
  });
});

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ format: "json", destination, level: "debug" }), lines };
}

/** A collector that takes requests and never answers, or answers 500. */
async function collector(mode: "hang" | "500"): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests += 1;
    req.resume();
    if (mode === "500") req.on("end", () => res.writeHead(500).end("no"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function until(check: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("startTracing", () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  it("is off without an endpoint, warns about nothing, and its spans record nothing", async () => {
    const { log, lines } = capture();
    tracing = await startTracing("app", log, {});
    expect(tracing.enabled).toBe(false);
    expect(tracing.droppedSpans()).toBe(0);
    expect(await withSpan("off", {}, async (span) => span.isRecording())).toBe(false);
    expect(lines.filter((line) => line.level === 40)).toEqual([]);
  });

  it("names every malformed value in one warning at start and still starts", async () => {
    const { log, lines } = capture();
    tracing = await startTracing("app", log, { OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon", OTEL_BSP_SCHEDULE_DELAY: "soon" });
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.msg)).toMatch(/OTEL_EXPORTER_OTLP_PROTOCOL.*OTEL_BSP_SCHEDULE_DELAY/);
  });

  it("exports http/protobuf by default, to <endpoint>/v1/traces, with the configured headers", async () => {
    const seen: { url?: string; type?: string; key?: string }[] = [];
    const server: Server = createServer((req, res) => {
      seen.push({ url: req.url, type: req.headers["content-type"], key: req.headers["x-api-key"] as string | undefined });
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { log, lines } = capture();
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      tracing = await startTracing("app", log, {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=k1",
        OTEL_BSP_SCHEDULE_DELAY: "20",
      });
      await withSpan("work", {}, async () => {});
      await until(() => seen.length > 0);
      expect(lines.find((line) => line.msg === "OpenTelemetry tracing on")).toMatchObject({ url: `${endpoint}/v1/traces`, protocol: "http/protobuf" });
      expect(seen[0]).toEqual({ url: "/v1/traces", type: "application/x-protobuf", key: "k1" });
      expect(tracing.droppedSpans()).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("never logs a password the endpoint's URL holds", async () => {
    const { log, lines } = capture();
    tracing = await startTracing("app", log, { OTEL_EXPORTER_OTLP_ENDPOINT: "https://user:s3cr3t-key@collector.example:4318" });
    expect(lines.find((line) => line.msg === "OpenTelemetry tracing on")?.url).toBe("https://collector.example:4318/v1/traces");
    expect(JSON.stringify(lines)).not.toContain("s3cr3t");
  });

  it("exports over gRPC when asked; a collector that is not there costs the spans, counted", async () => {
    const { log } = capture();
    tracing = await startTracing("agent", log, {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_BSP_SCHEDULE_DELAY: "20",
      OTEL_BSP_EXPORT_TIMEOUT: "1000",
      OTEL_EXPORTER_OTLP_TIMEOUT: "500",
    });
    expect(tracing.enabled).toBe(true);
    await withSpan("work", {}, async () => {});
    await until(() => tracing!.droppedSpans() === 1);
  });

  for (const mode of ["hang", "500"] as const) {
    it(`counts the spans a collector that ${mode === "hang" ? "hangs" : "answers 500"} loses, without slowing the spans, and shuts down in bounded time`, async () => {
      const server = await collector(mode);
      try {
        const { log } = capture();
        tracing = await startTracing("agent", log, {
          OTEL_EXPORTER_OTLP_ENDPOINT: server.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_BSP_SCHEDULE_DELAY: "20",
          OTEL_BSP_EXPORT_TIMEOUT: "300",
          OTEL_EXPORTER_OTLP_TIMEOUT: "300",
          OTEL_BSP_MAX_QUEUE_SIZE: "4",
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "2",
        });
        expect(tracing.enabled).toBe(true);
        const started = Date.now();
        for (let i = 0; i < 20; i++) await withSpan("work", {}, async (span) => expect(span.isRecording()).toBe(true));
        expect(Date.now() - started).toBeLessThan(500);
        await until(() => server.requests() > 0 && tracing!.droppedSpans() >= 16);
        await withSpan("last", {}, async () => {});
        const stopping = Date.now();
        await tracing.shutdown();
        expect(Date.now() - stopping).toBeLessThan(3500);
      } finally {
        await server.close();
      }
    });
  }
});
