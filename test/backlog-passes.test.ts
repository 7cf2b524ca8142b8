import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { TaskStore } from "../src/queue/task-store.js";
import { Reconciler } from "../src/reconciler/reconciler.js";
import { AppMetrics } from "../src/ops/metrics/app-metrics.js";
import { taskCensus } from "../src/ops/task-census.js";
import { UsageMonitor } from "../src/ops/usage/usage-monitor.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { claimTestTask } from "./helpers/tasks.js";

/**
 * The task records a connection reads (`hget`, `hmget`, `hgetall` of `<prefix>:task:*`, or a
 * script that reads fields with HMGET from the keys it is given): `total` counts one per record
 * per read, however many records a command reads.
 */
function countTaskReads(redis: Redis, prefix: string) {
  const reads = { keys: new Set<string>(), hgetall: 0, total: 0 };
  const original = redis.sendCommand;
  const isTaskKey = (key: string) => key.startsWith(`${prefix}:task:`);
  redis.sendCommand = function (this: Redis, ...args: Parameters<Redis["sendCommand"]>) {
    const [command] = args;
    const name = command.name.toLowerCase();
    const [first, numKeys, ...rest] = command.args.map(String);
    const keys =
      ["hget", "hmget", "hgetall"].includes(name) && first !== undefined
        ? [first]
        : name === "eval" && first?.includes("redis.call('HMGET'")
          ? rest.slice(0, Number(numKeys))
          : [];
    for (const key of keys.filter(isTaskKey)) {
      reads.keys.add(key);
      reads.total++;
      if (name === "hgetall") reads.hgetall++;
    }
    return original.apply(this, args);
  };
  return {
    /** What was read since the last call. */
    take() {
      const taken = { records: reads.keys.size, hgetall: reads.hgetall, reads: reads.total };
      reads.keys.clear();
      reads.hgetall = 0;
      reads.total = 0;
      return taken;
    },
  };
}

const TASKS = 25;
const PAGE = 10;

describe("periodic passes over a backlog longer than their page", () => {
  let redis: Redis;
  /** The reconciler's own connection, whose reads the tests count. */
  let reconcilerRedis: Redis;
  let prefix: string;
  let deps: IntakeDeps;
  beforeAll(() => {
    redis = connectRedis();
    reconcilerRedis = connectRedis();
  });
  afterAll(async () => {
    await Promise.all([redis.quit(), reconcilerRedis.quit()]);
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

  it("the reconciler reads at most a page of task records per pass, and within the passes a backlog takes it has told every queued task why it waits", async () => {
    for (let n = 1; n <= TASKS; n++) await deps.queues.add(await claimTestTask(deps, { number: n }));
    const reads = countTaskReads(reconcilerRedis, prefix);
    const reconciler = new Reconciler({ ...deps, redis: reconcilerRedis, store: new TaskStore(reconcilerRedis, prefix), pageSize: PAGE });

    const perPass: number[] = [];
    for (let pass = 0; pass < Math.ceil(TASKS / PAGE); pass++) {
      await reconciler.tick();
      const read = reads.take();
      perPass.push(read.records);
      // A queued task is judged from a few fields, never its whole record.
      expect(read.hgetall).toBe(0);
    }
    // Oldest first, a page per pass, the last page the rest.
    expect(perPass).toEqual([10, 10, 5]);
    // No agent is live: every queued task says so, as when one pass looked at them all.
    const reasons = await blockedBy();
    expect(reasons.every((reason) => reason === "no agent is running: start one with `ccc agent`")).toBe(true);

    // The next pass starts over from the oldest.
    await reconciler.tick();
    expect(reads.take().records).toBe(PAGE);
  });

  it("a running task whose job vanished is found at the first pass, however far past the page its id is; the running index follows the state", async () => {
    for (let n = 1; n <= TASKS; n++) await deps.queues.add(await claimTestTask(deps, { number: n }));
    const last = `octo-org/hello#${TASKS}`;
    // The newest task, on the last page: its agent took it, then its job vanished (the agent's PC died with Redis losing the job).
    expect(await deps.store.update(last, { state: "running", agent: "pc-gone", startedAt: Date.now() }, ["queued"])).toBe(true);
    expect(await deps.queues.removeWaiting("tasks-general", `${last}@1`)).toBe(true);
    expect(await deps.store.runningIds()).toEqual([last]);

    const reconciler = new Reconciler({ ...deps, redis: reconcilerRedis, store: new TaskStore(reconcilerRedis, prefix), pageSize: PAGE });
    await reconciler.tick();
    const task = await deps.store.get(last);
    expect(task?.state).toBe("failed");
    expect(task?.failure?.message).toContain("its queue job disappeared while");
    // Out of the running index with the state that took it out of running.
    expect(await deps.store.runningIds()).toEqual([]);

    // A new run of the task starts queued, not in the index; taking it puts it back.
    const again = await claimTestTask(deps, { number: TASKS });
    expect(again.run).toBe(2);
    expect(await deps.store.runningIds()).toEqual([]);
    expect(await deps.store.update(last, { state: "running", agent: "pc-2" }, ["queued"])).toBe(true);
    expect(await deps.store.runningIds()).toEqual([last]);
  });

  it("a backlog no longer than the page is read whole at every pass, as before paging", async () => {
    for (let n = 1; n <= 5; n++) await deps.queues.add(await claimTestTask(deps, { number: n }));
    const reads = countTaskReads(reconcilerRedis, prefix);
    const reconciler = new Reconciler({ ...deps, redis: reconcilerRedis, store: new TaskStore(reconcilerRedis, prefix), pageSize: PAGE });
    await reconciler.tick();
    expect(reads.take().records).toBe(5);
    await reconciler.tick();
    expect(reads.take().records).toBe(5);
  });

  it("past its grace a queued task's job is checked by its state alone, and a task whose job vanished still fails", async () => {
    for (let n = 1; n <= 3; n++) await deps.queues.add(await claimTestTask(deps, { number: n }));
    expect(await deps.queues.removeWaiting("tasks-general", "octo-org/hello#2@1")).toBe(true);
    const jobLoads: string[] = [];
    // The queues are on the intake's connection.
    const original = redis.sendCommand;
    redis.sendCommand = function (this: Redis, ...args: Parameters<Redis["sendCommand"]>) {
      const key = String(args[0].args[0] ?? "");
      if (args[0].name.toLowerCase() === "hgetall" && key.startsWith(`${prefix}:tasks-general:`)) jobLoads.push(key);
      return original.apply(this, args);
    };
    const reconciler = new Reconciler({ ...deps, redis: reconcilerRedis, store: new TaskStore(reconcilerRedis, prefix), now: () => Date.now() + 10 * 60_000 });
    await reconciler.tick();
    redis.sendCommand = original;

    const states = await Promise.all([1, 2, 3].map(async (n) => (await deps.store.get(`octo-org/hello#${n}`))!));
    expect(states.map((t) => t.state)).toEqual(["queued", "failed", "queued"]);
    expect(states[1]!.failure?.message).toContain("its queue job disappeared before an agent took it");
    // Only the missing job was looked for in full; the waiting ones' data was never loaded.
    expect(jobLoads).toEqual([`${prefix}:tasks-general:octo-org/hello#2@1`]);
  });

  it("a scrape counts every task of a census longer than one round trip, reads no more than the census's limit, and the next scrape reads only the records that changed", async () => {
    const count = 1_200;
    for (let n = 1; n <= count; n += 100) await Promise.all(Array.from({ length: 100 }, (_, i) => claimTestTask(deps, { number: n + i })));
    const reads = countTaskReads(reconcilerRedis, prefix);
    const metrics = new AppMetrics({ redis: reconcilerRedis, prefix, queues: deps.queues, usage: new UsageMonitor({ redis, prefix, budgets: [] }) });
    const scrape = async () => {
      const text = await metrics.text();
      const gauge = (state: string) => Number(new RegExp(`ccc_tasks\\{state="${state}",specialty="general"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { queued: gauge("queued"), running: gauge("running"), hmget: reads.take() };
    };
    const first = await scrape();
    expect(first.queued).toBe(count);
    expect(first.hmget.records).toBe(count);

    // One task starts, one record goes (expired): the next scrape reads those two only, and counts them.
    expect(await deps.store.update("octo-org/hello#7", { state: "running", agent: "pc-1", startedAt: Date.now() }, ["queued"])).toBe(true);
    await redis.del(`${prefix}:task:octo-org/hello#8`);
    const second = await scrape();
    expect(second).toMatchObject({ queued: count - 2, running: 1 });
    // Every record's version is read (one small field); only the changed one is read in full.
    expect(second.hmget.reads).toBe(count + 1);

    const census = await taskCensus(redis, prefix, 1_000);
    expect(census).toHaveLength(1_000);
    // The most recently queued first, as the limit keeps.
    const recent = await redis.zrevrange(`${prefix}:tasks`, 0, 999);
    expect(census.map((t) => t.taskId)).toEqual(recent);
  });
});
