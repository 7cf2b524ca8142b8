import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/agent-process.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./helpers/otlp-receiver.js";
import { labeledPayload } from "./helpers/payloads.js";
import { parseMetrics, sampleValue } from "./helpers/prometheus.js";

const REPO = "octo-org/hello";
// Words no span may carry: the title and body are what a user wrote.
const TITLE = "Quokka marmalade changelog";
const BODY = "Zebrafish pumpernickel, please add the entry.";

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** The app's env for tracing to `endpoint` as JSON, exported every 100 ms. */
function tracingEnv(endpoint: string, more: Record<string, string> = {}) {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "100", ...more };
}

async function labelToPullRequest(cluster: Cluster, number: number) {
  const response = await cluster.deliver(
    "issues",
    labeledPayload("claude", { cloneUrl: cluster.origin.url, number, title: `${TITLE} ${number}`, body: BODY }),
    `delivery-${number}-${Date.now()}`,
  );
  expect(response.status).toBe(200);
  return cluster.waitForGitHub(
    "the pull request",
    async () => cluster.github.pulls(REPO).find((pr) => pr.body.includes(`Closes #${number}`)),
    `${REPO}#${number}`,
  );
}

describe("tracing through the processes: label → PR is one trace of the app's spans", () => {
  let receiver: OtlpReceiver;
  let cluster: Cluster;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    cluster = await startCluster({ env: tracingEnv(receiver.endpoint) });
    await cluster.startAgent({ name: "traced-agent" });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await receiver?.close();
  });

  it("the webhook, the enqueue, the reporter and its GitHub calls share the trace the job carries, as ccc-app, with no issue text", async () => {
    const pr = await labelToPullRequest(cluster, 7);
    const record = await cluster.store.get(`${REPO}#7`);
    expect(record?.traceId).toMatch(/^[0-9a-f]{32}$/);
    const traceId = record!.traceId!;

    // The job carries the enqueue span's context; the record holds its trace id.
    const queue = new Queue(record!.queue, { connection: cluster.redis, prefix: cluster.prefix });
    try {
      const job = await queue.getJob(record!.jobId);
      expect((job?.data as { trace?: { traceparent: string } }).trace?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    } finally {
      await queue.close();
    }

    const inTrace = () => receiver.spans().filter((span) => span.traceId === traceId);
    const named = (name: string | RegExp) => (span: ReceivedSpan) => (typeof name === "string" ? span.name === name : name.test(span.name));
    // Spans are exported as they end: a parent after its children.
    await waitFor(
      "the reporter's pull request span and its parent",
      async () => {
        const opened = inTrace().find(named("open pull request"));
        return opened && inTrace().some((span) => span.spanId === opened.parentSpanId);
      },
      20_000,
    );
    const spans = inTrace();

    const webhook = spans.find(named("webhook issues"));
    expect(webhook).toMatchObject({ kind: SERVER, parentSpanId: "", service: "ccc-app" });
    expect(webhook?.attributes).toMatchObject({ "github.event": "issues", "github.action": "labeled", "github.repository": REPO, "github.issue.number": 7 });
    const enqueue = spans.find(named("enqueue task"));
    expect(enqueue).toMatchObject({ kind: PRODUCER, parentSpanId: webhook?.spanId });
    // The classification is the enqueue span's attributes, not a span of its own.
    expect(enqueue?.attributes).toMatchObject({
      "ccc.task.id": `${REPO}#7`,
      "ccc.outcome": "queued",
      "ccc.specialty": "general",
      "ccc.priority": "normal",
      "messaging.system": "bullmq",
    });
    expect(spans.some(named("classify"))).toBe(false);

    // The pushed event may be handled more than once (a lock wait, a replay): each in the trace.
    const pushed = spans.filter(named("reporter pushed"));
    expect(pushed.length).toBeGreaterThan(0);
    for (const span of pushed) expect(span).toMatchObject({ kind: CONSUMER, attributes: expect.objectContaining({ "ccc.task.id": `${REPO}#7` }) });
    const opened = spans.find(named("open pull request"));
    expect(pushed.map((span) => span.spanId)).toContain(opened?.parentSpanId);
    expect(opened?.attributes).toMatchObject({ "ccc.pr.number": pr.number });
    const createPull = spans.find(named("GitHub POST /repos/{owner}/{repo}/pulls"));
    expect(createPull).toMatchObject({ kind: CLIENT, parentSpanId: opened?.spanId });
    expect(createPull?.attributes).toMatchObject({
      "http.request.method": "POST",
      "url.template": "/repos/{owner}/{repo}/pulls",
      "http.response.status_code": 201,
    });
    expect(spans.some(named("update tracking comment"))).toBe(true);
    expect(spans.every((span) => span.service === "ccc-app")).toBe(true);

    // Nothing a user wrote, anywhere in any span the app sent.
    const everything = JSON.stringify(receiver.spans());
    for (const word of ["Quokka", "marmalade", "Zebrafish", "pumpernickel"]) expect(everything).not.toContain(word);
  }, 90_000);

  it("a second run of the task (labelled again after its PR) stays in the task's trace, linked to the delivery that started it", async () => {
    const first = (await cluster.store.get(`${REPO}#7`))!;
    expect(first.state).toBe("pr-open");
    const response = await cluster.deliver(
      "issues",
      labeledPayload("claude", { cloneUrl: cluster.origin.url, number: 7, title: TITLE, body: BODY }),
      `again-${Date.now()}`,
    );
    expect(response.status).toBe(200);
    const again = await waitFor("the second run's enqueue span", async () =>
      receiver.spans().find((span) => span.name === "enqueue task" && span.attributes["ccc.task.run"] === 2),
    );
    expect(again.traceId).toBe(first.traceId);
    expect(again.parentSpanId).toBe(first.trace?.traceparent.split("-")[2]);
    // The delivery's span ends after the enqueue's, so it may come in a later export.
    const delivery = await waitFor("the delivery's span", async () => receiver.spans().find((span) => span.spanId === again.links[0]?.spanId));
    expect(delivery).toMatchObject({ name: "webhook issues", parentSpanId: "" });
    expect(delivery?.traceId).not.toBe(first.traceId);
    expect((await cluster.store.get(`${REPO}#7`))?.traceId).toBe(first.traceId);
  }, 60_000);
});

describe("a collector that hangs or fails costs spans, never the work", () => {
  let receiver: OtlpReceiver;
  let cluster: Cluster;
  beforeAll(async () => {
    receiver = await startOtlpReceiver("hang");
    // Exports give up after 500 ms; a small queue so that spans are dropped for want of room too.
    cluster = await startCluster({
      env: tracingEnv(receiver.endpoint, {
        OTEL_BSP_EXPORT_TIMEOUT: "500",
        OTEL_EXPORTER_OTLP_TIMEOUT: "500",
        OTEL_BSP_MAX_QUEUE_SIZE: "8",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "4",
      }),
    });
    await cluster.startAgent({ name: "untraced-agent" });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await receiver?.close();
  });

  const dropped = async () => sampleValue(parseMetrics(await (await cluster.app.request("/metrics")).text()), "ccc_trace_spans_dropped_total") ?? 0;

  for (const [number, mode] of [
    [7, "hang"],
    [8, "500"],
  ] as const) {
    it(`label → PR completes with a collector that ${mode === "hang" ? "never answers" : "answers 500"}, and the dropped-spans counter rises`, async () => {
      receiver.setMode(mode);
      const before = await dropped();
      const requestsBefore = receiver.requests();
      await labelToPullRequest(cluster, number);
      // The reporter opens the PR on GitHub first, then records it.
      await waitFor("the task at pr-open", async () => (await cluster.store.get(`${REPO}#${number}`))?.state === "pr-open");
      await waitFor("the collector to be asked", async () => receiver.requests() > requestsBefore, 20_000);
      await waitFor("the dropped-spans counter to rise", async () => (await dropped()) > before, 20_000);
      expect(receiver.spans()).toEqual([]);
    }, 90_000);
  }

  it("the app stops on SIGTERM within seconds while the collector hangs: the last export is given up", async () => {
    receiver.setMode("hang");
    await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url, number: 9 }), `delivery-9-${Date.now()}`);
    const stopping = Date.now();
    expect(await cluster.app.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10_000);
  }, 30_000);
});
