import { SpanKind } from "@opentelemetry/api";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runSpanOptions } from "../src/app/run-span-options.js";
import { retryTask } from "../src/control/retry-task.js";
import { carrierOf, traceIdOf } from "../src/telemetry/trace-carrier.js";
import { withSpan } from "../src/telemetry/tracer.js";
import { startInMemoryTracing } from "./helpers/in-memory-tracing.js";
import { closeIntakeDeps, intakeDeps, waitingJobs } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { claimTestTask } from "./helpers/tasks.js";

const EARLIER = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
const ISSUE_TASK = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };

describe("which trace a new run of a task joins", () => {
  let tracing: ReturnType<typeof startInMemoryTracing>;
  let redis: Redis;
  const prefix = randomPrefix();
  beforeAll(() => {
    tracing = startInMemoryTracing();
    redis = connectRedis();
  });
  afterEach(() => tracing.reset());
  afterAll(async () => {
    await tracing.stop();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("a first run is the delivery's child: no parent of its own, no link", async () => {
    await withSpan("webhook issues", {}, async () => expect(runSpanOptions(undefined)).toEqual({}));
  });

  it("a later run continues the task's trace and links to the delivery that started it", async () => {
    const delivery = await withSpan("webhook issue_comment", {}, async () => {
      const options = runSpanOptions(EARLIER);
      expect(options.parent).toEqual(EARLIER);
      return { options, spanId: carrierOf()!.traceparent.split("-")[2] };
    });
    expect(delivery.options.links?.map((link) => [link.context.spanId, link.attributes?.["ccc.link"]])).toEqual([[delivery.spanId, "trigger"]]);
  });

  it("a pull request's task links to its issue's task, whose trace it does not join", async () => {
    const first = await withSpan("webhook pull_request_review", {}, async () => runSpanOptions(undefined, ISSUE_TASK));
    expect(first.parent).toBeUndefined();
    expect(first.links?.map((link) => [link.context.traceId, link.attributes?.["ccc.link"]])).toEqual([[traceIdOf(ISSUE_TASK), "follows-task"]]);
    const again = await withSpan("webhook check_run", {}, async () => runSpanOptions(EARLIER, ISSUE_TASK));
    expect(again.parent).toEqual(EARLIER);
    expect(again.links?.map((link) => link.attributes?.["ccc.link"])).toEqual(["trigger", "follows-task"]);
  });

  it("a retry from the API or ccc stays in the task's trace: its job, its record and its span", async () => {
    const deps = intakeDeps(redis, prefix);
    try {
      const data = await claimTestTask(deps, { number: 31, trace: EARLIER });
      await deps.queues.add(data);
      await deps.store.update(data.taskId, { state: "failed", finishedAt: Date.now() });
      expect(await retryTask(deps, data.taskId, "maintainer")).toMatchObject({ status: "queued", run: 2 });

      const retry = tracing.spans().find((span) => span.name === "retry task");
      expect(retry?.kind).toBe(SpanKind.PRODUCER);
      expect(retry?.spanContext().traceId).toBe(traceIdOf(EARLIER));
      expect(retry?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
      const job = (await waitingJobs(redis, prefix, "tasks-general")).find((queued) => queued.id === `${data.taskId}@2`);
      expect((job?.data as { trace?: { traceparent: string } }).trace?.traceparent).toBe(`00-${traceIdOf(EARLIER)}-${retry?.spanContext().spanId}-01`);
      expect(await deps.store.get(data.taskId)).toMatchObject({ run: 2, traceId: traceIdOf(EARLIER) });
    } finally {
      await closeIntakeDeps(deps);
    }
  });
});
