import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FetchLoop } from "../src/agent/fetch-loop.js";
import { TaskWorker } from "../src/agent/task-worker.js";
import { silentLogger } from "../src/shared/logger.js";
import { bullmqPriority, type Priority } from "../src/shared/priority.js";
import { waitFor } from "./helpers/agent-process.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

/** One agent's loop over `queues`, recording the jobs it ran, in order. */
interface TestAgent {
  loop: FetchLoop;
  ran: Array<{ name: string; at: number }>;
  capacity: number;
  close(): Promise<void>;
}

describe("FetchLoop: one order over every queue an agent serves", () => {
  let redis: Redis;
  let prefix: string;
  const agents: TestAgent[] = [];
  const queues = new Map<string, Queue>();

  beforeAll(() => {
    redis = connectRedis();
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    await Promise.all([...queues.values()].map((q) => q.close()));
    queues.clear();
    await deletePrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) queues.set(name, (q = new Queue(name, { connection: redis, prefix })));
    return q;
  };
  // Oldest first is by the job's timestamp, in ms: two jobs added within one ms would tie, and
  // a tie keeps queue order. Each job here is a ms younger than the one before, as in real use.
  let lastTimestamp = 0;
  const add = (queueName: string, name: string, priority: Priority, delay = 0) => {
    lastTimestamp = Math.max(Date.now(), lastTimestamp + 1);
    return queue(queueName).add(name, {}, { priority: bullmqPriority(priority), timestamp: lastTimestamp, ...(delay > 0 ? { delay } : {}) });
  };

  async function startAgent(names: string[], options: { capacity?: number; admits?: (p: number) => boolean; idlePollMs?: number; holdMs?: number } = {}) {
    const ran: TestAgent["ran"] = [];
    const workers = names.map(
      (name) =>
        new TaskWorker(
          name,
          async (job) => {
            ran.push({ name: job.name, at: Date.now() });
            await new Promise((r) => setTimeout(r, options.holdMs ?? 0));
          },
          { connection: redis, prefix, autorun: false, lockDuration: 10_000 },
        ),
    );
    await Promise.all(workers.map((w) => w.startTimers()));
    const agent: TestAgent = {
      ran,
      capacity: options.capacity ?? 1,
      loop: undefined as unknown as FetchLoop,
      close: async () => {
        await agent.loop.stop();
        await Promise.all(workers.map((w) => w.close()));
      },
    };
    agent.loop = new FetchLoop({
      redis,
      workers,
      capacity: () => agent.capacity,
      admits: options.admits ?? (() => true),
      log: silentLogger,
      idlePollMs: options.idlePollMs ?? 60_000,
    });
    agents.push(agent);
    agent.loop.start();
    return agent;
  }

  it("takes the most urgent task of any queue first, then the oldest, whatever queue each sits on", async () => {
    prefix = randomPrefix();
    const agent = await startAgent(["tasks-backend", "tasks-general", "tasks-docs"], { capacity: 0 });
    // Queued while the agent is busy (capacity 0), in this order.
    await add("tasks-backend", "low-backend", "low");
    await add("tasks-general", "normal-general-1", "normal");
    await add("tasks-docs", "normal-docs", "normal");
    await add("tasks-general", "urgent-general", "urgent");
    await add("tasks-backend", "high-backend", "high");
    await add("tasks-general", "normal-general-2", "normal");
    agent.capacity = 1;
    agent.loop.wake();
    await waitFor("all six run", async () => agent.ran.length === 6, 20_000);
    expect(agent.ran.map((r) => r.name)).toEqual(["urgent-general", "high-backend", "normal-general-1", "normal-docs", "normal-general-2", "low-backend"]);
  });

  it("an idle agent is woken by a new task's queue marker, not by its poll", async () => {
    prefix = randomPrefix();
    const agent = await startAgent(["tasks-backend", "tasks-general"], { idlePollMs: 60_000 });
    // Let the loop reach its blocking wait on the markers.
    await waitFor("the loop blocking on the markers", async () => ((await redis.client("LIST")) as string).includes("cmd=bzpopmin"), 10_000);
    const added = Date.now();
    await add("tasks-general", "new", "normal");
    await waitFor("the new task to run", async () => agent.ran.length === 1, 30_000);
    console.info(`figure: idle agent picked a new task up ${agent.ran[0]!.at - added} ms after it was queued (poll 60 s)`);
  });

  it("a scheduled (delayed) task starts when it is due, not before, with no poll to wake the agent", async () => {
    prefix = randomPrefix();
    const agent = await startAgent(["tasks-general"], { idlePollMs: 60_000 });
    const delay = 1_500;
    const added = Date.now();
    await add("tasks-general", "scheduled", "normal", delay);
    await waitFor("the scheduled task to run", async () => agent.ran.length === 1, 30_000);
    expect(agent.ran[0]!.at).toBeGreaterThanOrEqual(added + delay);
  });

  it("takes only what admits() lets through and leaves the rest queued", async () => {
    prefix = randomPrefix();
    const urgentOrHigh = (p: number) => p <= bullmqPriority("high");
    const agent = await startAgent(["tasks-backend", "tasks-general"], { admits: urgentOrHigh, idlePollMs: 200 });
    await add("tasks-general", "low", "low");
    await add("tasks-backend", "normal", "normal");
    await add("tasks-general", "high", "high");
    await waitFor("the high task to run", async () => agent.ran.length === 1, 20_000);
    // Several polls later the other two are still waiting.
    await waitFor("two more polls", async () => (await queue("tasks-general").getPrioritizedCount()) === 1 && Date.now() - agent.ran[0]!.at > 1_000, 10_000);
    expect(agent.ran.map((r) => r.name)).toEqual(["high"]);
    expect(await queue("tasks-backend").getPrioritizedCount()).toBe(1);
  });

  it("two idle agents on one queue both get work when two tasks arrive at once", async () => {
    prefix = randomPrefix();
    const a = await startAgent(["tasks-general"], { idlePollMs: 60_000, holdMs: 3_000 });
    const b = await startAgent(["tasks-general"], { idlePollMs: 60_000, holdMs: 3_000 });
    await waitFor("both loops blocking", async () => ((await redis.client("LIST")) as string).split("cmd=bzpopmin").length - 1 >= 2, 10_000);
    await Promise.all([add("tasks-general", "one", "normal"), add("tasks-general", "two", "normal")]);
    // Each holds its task 3 s, so both must have started one for both to have run before either finished.
    await waitFor("both tasks running", async () => a.ran.length + b.ran.length === 2, 30_000);
    expect([a.ran.length, b.ran.length]).toEqual([1, 1]);
  });

  it("five tasks queued at once wake five idle agents at once, with no poll", async () => {
    prefix = randomPrefix();
    const five = await Promise.all(Array.from({ length: 5 }, () => startAgent(["tasks-general"], { idlePollMs: 60_000, holdMs: 5_000 })));
    await waitFor("every loop blocking", async () => ((await redis.client("LIST")) as string).split("cmd=bzpopmin").length - 1 >= 5, 10_000);
    const queued = Date.now();
    await queue("tasks-general").addBulk(Array.from({ length: 5 }, (_, i) => ({ name: `bulk-${i}`, data: {} })));
    // Each holds its task 5 s: all five running at once means none waited for its poll.
    await waitFor("all five running", async () => five.every((agent) => agent.ran.length === 1), 30_000);
    const last = Math.max(...five.map((agent) => agent.ran[0]!.at));
    console.info(`figure: five idle agents, five tasks in one bulk: the last started ${last - queued} ms after the bulk`);
    expect(last - queued).toBeLessThan(5_000);
  });
});
