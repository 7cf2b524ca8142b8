import { randomBytes } from "node:crypto";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { createApp } from "../src/app/create-app.js";
import { connectRedis } from "../src/shared/connect-redis.js";
import { startTracing, type Tracing } from "../src/telemetry/start-tracing.js";
import { withSpan } from "../src/telemetry/tracer.js";
import { WEBHOOK_SECRET } from "../test/helpers/app-server.js";
import { startFakeGitHub } from "../test/helpers/fake-github.js";
import { closeIntakeDeps, intakeDeps } from "../test/helpers/intake.js";
import { startBenchRedis } from "./bench-redis.js";
import { benchDispatch, type DispatchFigures } from "./dispatch.js";
import { runLoad, type LoadMode, type LoadResult } from "./load-client.js";
import { describeMachine } from "./machine.js";
import { ms, summarise, verdict } from "./stats.js";
import { OWNER, REPO, startServer, warmCaches } from "./webhook-ingest.js";

export interface TracingBenchOptions {
  /** Deliveries per closed-loop round; four rounds of each mode, in a Latin square. @defaultValue 1000 */
  deliveries?: number;
  /** Measured tasks per dispatch round; rounds off/on/on/off. @defaultValue 10 */
  samples?: number;
}

const ON_TARGET = 0.1;
const CONCURRENCY = 8;
const OPEN_RATE = 100;
const OPEN_SECONDS = 5;

/** A collector that answers every export 200 at once, counting requests and (for http/json) spans. */
async function startSink(): Promise<{ url: string; requests(): number; spans(): number; close(): Promise<void> }> {
  let requests = 0;
  let spans = 0;
  const server: HttpServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests++;
      if (String(req.headers["content-type"]).includes("json")) {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> };
        for (const resource of body.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    spans: () => spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Tracing off against on, in the same run: what a span costs with tracing off (the API's
 * no-op), webhook ingest through Probot's server, and enqueue → Claude spawned on a real agent.
 * "On" exports to a local collector that answers at once, over the default http/protobuf.
 */
export async function benchTracing(options: TracingBenchOptions = {}): Promise<{ name: string; lines: string[] }> {
  const deliveries = options.deliveries ?? 1000;
  const samples = options.samples ?? 10;
  const sink = await startSink();
  const silent = pino({ level: "silent" });
  const on = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_BSP_SCHEDULE_DELAY: "1000" };
  try {
    // 1. A span with tracing off: withSpan around an empty async function, against the function alone.
    const calls = 200_000;
    const bare = async () => {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await (async () => {})();
      return performance.now() - t0;
    };
    const spanned = async () => {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await withSpan("bench", { attributes: { "ccc.task.id": "o/r#1" } }, async () => {});
      return performance.now() - t0;
    };
    await bare();
    await spanned();
    const offSpanNs = ((Math.min(await spanned(), await spanned()) - Math.min(await bare(), await bare())) / calls) * 1e6;

    // 2. Webhook ingest, closed loop, on one server: four rounds of each mode (a Latin square).
    const benchRedis = await startBenchRedis();
    const github = await startFakeGitHub();
    const redis = await connectRedis(benchRedis.url);
    const prefix = `ccc-bench-${randomBytes(4).toString("hex")}`;
    const deps = intakeDeps(redis, prefix);
    type Mode = "off" | "on" | "sampled" | "unsampled";
    let ingest: Record<Mode, LoadResult[]> & { open: Record<"off" | "on", number[]>; spansPerDelivery: number };
    // "sampled": 1 trace in 10 recorded (parentbased_traceidratio 0.1); "unsampled": none recorded
    // (always_off), which leaves what the context manager and the unrecorded spans cost.
    const settings: Record<Exclude<Mode, "off">, Record<string, string>> = {
      on,
      sampled: { ...on, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" },
      unsampled: { ...on, OTEL_TRACES_SAMPLER: "always_off" },
    };
    try {
      await warmCaches(redis, prefix);
      const server = await startServer(createApp(deps), github.baseUrl);
      let nextIssue = 1;
      const load = async (count: number, mode: LoadMode = { kind: "closed", concurrency: CONCURRENCY }) => {
        const result = await runLoad({ url: server.url, secret: WEBHOOK_SECRET, owner: OWNER, repo: REPO, firstIssue: nextIssue, count, mode });
        nextIssue += count;
        return result;
      };
      try {
        await load(1000);
        const results: Record<Mode, LoadResult[]> = { off: [], on: [], sampled: [], unsampled: [] };
        // A Latin square: each mode runs once in each position of a block, so neither the JIT
        // still warming up early nor the queues growing late favours one of them.
        const modes = ["off", "on", "sampled", "unsampled"] as const;
        const order = [0, 1, 2, 3].flatMap((block) => modes.map((_, i) => modes[(i + block) % modes.length]!));
        for (const mode of order) {
          const tracing: Tracing | undefined = mode === "off" ? undefined : await startTracing("app", silent, settings[mode]);
          if (tracing) await load(100); // the SDK's first spans, not counted
          results[mode].push(await load(deliveries));
          await tracing?.shutdown();
        }
        // Open loop at a rate a busy organisation sends: the answer's latency, off/on/on/off.
        const open: Record<"off" | "on", number[]> = { off: [], on: [] };
        for (const mode of ["off", "on", "on", "off"] as const) {
          const tracing = mode === "on" ? await startTracing("app", silent, on) : undefined;
          open[mode].push(...(await load(OPEN_RATE * OPEN_SECONDS, { kind: "open", perSecond: OPEN_RATE })).latenciesMs);
          await tracing?.shutdown();
        }
        // Spans per delivery, counted over http/json.
        const counting = await startTracing("app", silent, { ...on, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "100" });
        const before = sink.spans();
        await load(200);
        await counting.shutdown();
        ingest = { ...results, open, spansPerDelivery: (sink.spans() - before) / 200 };
      } finally {
        await server.stop();
      }
    } finally {
      await closeIntakeDeps(deps).catch(() => {});
      await github.close();
      redis.disconnect();
      await benchRedis.stop(prefix);
    }

    // 3. Enqueue → claude spawned on a real agent, rounds off/on/on/off.
    const dispatch = { off: [] as DispatchFigures[], on: [] as DispatchFigures[] };
    for (const mode of ["off", "on", "on", "off"] as const) {
      const run = await benchDispatch({ samples, ...(mode === "on" ? { tracing: on } : {}) });
      if (!run.figures) return { name: "tracing", lines: run.lines };
      dispatch[mode].push(run.figures);
    }

    const rate = (results: LoadResult[]) => (results.length * deliveries) / (results.reduce((s, r) => s + r.elapsedMs, 0) / 1000);
    const [offRate, onRate] = [rate(ingest.off), rate(ingest.on)];
    const [openOff, openOn] = [summarise(ingest.open.off), summarise(ingest.open.on)];
    const lost = (mode: Mode) => `${((1 - rate(ingest[mode]) / offRate) * 100).toFixed(1)} %`;
    const offIngest = summarise(ingest.off.flatMap((r) => r.latenciesMs));
    const onIngest = summarise(ingest.on.flatMap((r) => r.latenciesMs));
    const ingestCost = 1 - onRate / offRate;
    const offSpansUs = (offSpanNs * ingest.spansPerDelivery) / 1000;
    const mean = (figures: DispatchFigures[], pick: (f: DispatchFigures) => number) => figures.reduce((s, f) => s + pick(f), 0) / figures.length;
    const [offTotal, onTotal] = [mean(dispatch.off, (f) => f.total.p50), mean(dispatch.on, (f) => f.total.p50)];
    const [offOwn, onOwn] = [mean(dispatch.off, (f) => f.agentOwn.p50), mean(dispatch.on, (f) => f.agentOwn.p50)];
    const dispatchCost = onTotal / offTotal - 1;
    return {
      name: "tracing",
      lines: [
        `what: tracing off (no OTEL_* set: the API's no-op tracer) against on (startTracing, http/protobuf to a local collector that answers 200 at once,`,
        `      batch every 1 s), in this run; ingest rounds in a Latin square, dispatch rounds off/on/on/off, so that drift hits all alike`,
        `a span with tracing off: withSpan(name, attributes, async () => {}) costs ${offSpanNs.toFixed(0)} ns more than the bare call (${calls} calls, best of two)`,
        `  × ${ingest.spansPerDelivery.toFixed(1)} spans per delivery (counted over http/json) = ${offSpansUs.toFixed(2)} µs per delivery,` +
          ` ${((offSpansUs / 1000 / offIngest.p50) * 100).toFixed(2)} % of an answer's p50 with tracing off  ${verdict(offSpansUs / 1000 < offIngest.p50 * 0.01)} (off: no measurable cost, < 1 %)`,
        `webhook ingest (signed issues.labeled → task queued, ${CONCURRENCY} clients, ${deliveries} deliveries per round, four rounds of each mode, each mode once in each position of a block of four):`,
        `  off: ${Math.round(offRate)} deliveries/s, answer p50 ${ms(offIngest.p50)}, p99 ${ms(offIngest.p99)}`,
        `  on:  ${Math.round(onRate)} deliveries/s, answer p50 ${ms(onIngest.p50)}, p99 ${ms(onIngest.p99)}`,
        `  closed loop, throughput lost with tracing on: ${(ingestCost * 100).toFixed(1)} %  (target ≤ ${ON_TARGET * 100} %)  ${verdict(ingestCost <= ON_TARGET)};` +
          ` block by block: ${ingest.on.map((r, i) => `${((1 - r.elapsedMs ** -1 / ingest.off[i]!.elapsedMs ** -1) * 100).toFixed(1)} %`).join(", ")}`,
        `  open loop, ${OPEN_RATE} deliveries/s for ${OPEN_SECONDS} s per round: answer p50 ${ms(openOff.p50)} off, ${ms(openOn.p50)} on;` +
          ` p99 ${ms(openOff.p99)} off, ${ms(openOn.p99)} on  (p50 ${verdict(openOn.p50 <= openOff.p50 * (1 + ON_TARGET))} within ${ON_TARGET * 100} %)`,
        `  where it goes: with no trace recorded (OTEL_TRACES_SAMPLER=always_off: the context manager and unrecorded spans) ${lost("unsampled")} lost;` +
          ` one trace in ten recorded (parentbased_traceidratio 0.1) ${lost("sampled")} lost`,
        `enqueue → claude spawned on one idle agent (bench dispatch, ${samples} tasks per round, mean of the rounds' p50s):`,
        `  off: end to end ${ms(offTotal)}, excluding the worktree and the CLI's start-up ${ms(offOwn)}`,
        `  on:  end to end ${ms(onTotal)}, excluding the worktree and the CLI's start-up ${ms(onOwn)}`,
        `  end to end slower with tracing on: ${(dispatchCost * 100).toFixed(1)} %  (target ≤ ${ON_TARGET * 100} %)  ${verdict(dispatchCost <= ON_TARGET)}`,
        `collector: ${sink.requests()} export requests received in all`,
        `machine: ${describeMachine()}`,
      ],
    };
  } finally {
    await sink.close();
  }
}
