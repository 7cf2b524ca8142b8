import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventQueue } from "../src/queue/event-queue.js";
import { EVENTS_QUEUE, reporterEventSchema } from "../src/queue/reporter-event.js";
import { carrierOf } from "../src/telemetry/trace-carrier.js";
import { withSpan } from "../src/telemetry/tracer.js";
import { startInMemoryTracing } from "./helpers/in-memory-tracing.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

describe("reporter events and the trace", () => {
  let redis: Redis;
  let tracing: ReturnType<typeof startInMemoryTracing>;
  const prefix = randomPrefix();
  beforeAll(() => {
    redis = connectRedis();
    tracing = startInMemoryTracing();
  });
  afterAll(async () => {
    await tracing.stop();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("an event emitted inside a span carries that span as `trace`; one emitted outside carries none", async () => {
    const events = new EventQueue({ connection: redis, prefix });
    const queue = new Queue(EVENTS_QUEUE, { connection: redis, prefix });
    try {
      await events.emit({ type: "task-changed", taskId: "o/r#1" });
      const carrier = await withSpan("run", {}, async () => {
        await events.emit({ type: "pushed", taskId: "o/r#1", run: 1 });
        return carrierOf();
      });
      const data = (await queue.getJobs(["waiting"])).map((job) => reporterEventSchema.parse(job.data));
      expect(Object.fromEntries(data.map((event) => [event.type, event.trace]))).toEqual({ "task-changed": undefined, pushed: carrier });
    } finally {
      await queue.close();
      await events.close();
    }
  });
});
