import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { TaskStore } from "../src/queue/task-store.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { Reconciler } from "../src/reconciler/reconciler.js";
import { AppMetrics } from "../src/ops/metrics/app-metrics.js";
import { taskCensus } from "../src/ops/task-census.js";
import { UsageMonitor } from "../src/ops/usage/usage-monitor.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { claimTestTask } from "./helpers/tasks.js";

/** The product's TaskStore, counting the task records a pass loads through it. */
class CountingStore extends TaskStore {
  loaded = 0;
  override async get(taskId: string): Promise<TaskRecord | undefined> {
    this.loaded++;
    return super.get(taskId);
  }
}

const TASKS = 25;
const PAGE = 10;

describe("periodic passes over a backlog longer than their page", () => {
  let redis: Redis;
  let prefix: string;
  let deps: IntakeDeps;
  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = randomPrefix();
    deps = intakeDeps(redis, prefix);
  });
  afterEach(async () => {
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
  });

  const blockedBy = async () => Promise.all(Array.from({ length: TASKS }, async (_, i) => (await deps.store.get(`octo-org/hello#${i + 1}`))?.blockedBy));

  it("the reconciler loads at most a page of task records per pass, and within the passes a backlog takes it has told every queued task why it waits", async () => {
    for (let n = 1; n <= TASKS; n++) await deps.queues.add(await claimTestTask(deps, { number: n }));
    const store = new CountingStore(redis, prefix);
    const reconciler = new Reconciler({ ...deps, store, pageSize: PAGE });

    const loadedPerPass: number[] = [];
    for (let pass = 0; pass < Math.ceil(TASKS / PAGE); pass++) {
      const before = store.loaded;
      await reconciler.tick();
      loadedPerPass.push(store.loaded - before);
      expect(store.loaded - before).toBeLessThanOrEqual(PAGE);
    }
    // Oldest first, a page per pass, the last page the rest.
    expect(loadedPerPass).toEqual([10, 10, 5]);
    // No agent is live: every queued task says so, as when one pass looked at them all.
    const reasons = await blockedBy();
    expect(reasons.every((reason) => typeof reason === "string" && reason.length > 0)).toBe(true);

    // The next pass starts over from the oldest.
    const before = store.loaded;
    await reconciler.tick();
    expect(store.loaded - before).toBe(PAGE);
  });

  it("a backlog no longer than the page is read whole at every pass, as before paging", async () => {
    for (let n = 1; n <= 5; n++) await deps.queues.add(await claimTestTask(deps, { number: n }));
    const store = new CountingStore(redis, prefix);
    const reconciler = new Reconciler({ ...deps, store, pageSize: PAGE });
    await reconciler.tick();
    expect(store.loaded).toBe(5);
    await reconciler.tick();
    expect(store.loaded).toBe(10);
  });

  it("a scrape counts every task of a census longer than one round trip, and reads no more than the census's limit", async () => {
    const count = 1_200;
    for (let n = 1; n <= count; n += 100) await Promise.all(Array.from({ length: 100 }, (_, i) => claimTestTask(deps, { number: n + i })));
    const metrics = new AppMetrics({ redis, prefix, queues: deps.queues, usage: new UsageMonitor({ redis, prefix, budgets: [] }) });
    expect(await metrics.text()).toContain(`ccc_tasks{state="queued",specialty="general"} ${count}`);

    const census = await taskCensus(redis, prefix, 1_000);
    expect(census).toHaveLength(1_000);
    // The most recently queued first, as the limit keeps.
    const recent = await redis.zrevrange(`${prefix}:tasks`, 0, 999);
    expect(census.map((t) => t.taskId)).toEqual(recent);
  });
});
