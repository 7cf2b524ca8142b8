import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { cancelTask } from "../src/control/cancel-task.js";
import { readRetention } from "../src/queue/retention.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { TaskQueues, taskJobId } from "../src/queue/task-queues.js";
import { TaskStore } from "../src/queue/task-store.js";
import { EVENTS_QUEUE } from "../src/queue/reporter-event.js";
import { Reporter } from "../src/reporter/reporter.js";
import { FINAL_STATES } from "../src/shared/task-state.js";
import { waitFor } from "./helpers/agent-process.js";
import { TestOctokit } from "./helpers/app-server.js";
import { API } from "./helpers/github-nock.js";
import { intakeDeps } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix, scanKeys } from "./helpers/redis.js";
import { claimTestTask, enqueueDirect } from "./helpers/tasks.js";
import { useTestbed } from "./helpers/testbed.js";
import { TEST_TASK_SECRETS } from "./helpers/task-secret.js";

function record(number: number, overrides: Partial<TaskRecord> = {}): Omit<TaskRecord, "run" | "version" | "jobId"> {
  return {
    taskId: `octo/hello#${number}`,
    owner: "octo",
    repo: "hello",
    issueNumber: number,
    installationId: 1,
    title: "Fix it",
    state: "queued",
    specialty: "general",
    priority: "normal",
    reason: "default",
    branch: `claude/issue-${number}-fix-it`,
    baseBranch: "main",
    queue: "tasks-general",
    draftPullRequest: false,
    queuedAt: Date.now(),
    ...overrides,
  };
}

/** Every key under the prefix, found the way an operator would: SCAN, never KEYS. */
const keysUnder = (redis: Redis, prefix: string) => scanKeys(redis, `${prefix}:*`);

describe("task records under a retention", () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(() => {
    redis = connectRedis();
  });
  beforeEach(() => {
    prefix = randomPrefix();
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it("a final state gets the retention as TTL, a new run removes it, and a live record never has one", async () => {
    const store = new TaskStore(redis, prefix, 60_000);
    const key = store.key("octo/hello#1");
    await store.claim(record(1));
    expect(await redis.pttl(key)).toBe(-1);
    await store.update("octo/hello#1", { state: "running", agent: "pc-1" });
    await store.update("octo/hello#1", { progress: { turns: 2, updatedAt: Date.now() } });
    expect(await redis.pttl(key)).toBe(-1);

    for (const state of FINAL_STATES) {
      await store.claim(record(1));
      await store.update("octo/hello#1", { state, finishedAt: Date.now() });
      const ttl = await redis.pttl(key);
      expect(ttl, state).toBeGreaterThan(50_000);
      expect(ttl, state).toBeLessThanOrEqual(60_000);
      // The reporter's bookkeeping on a finished record keeps the TTL it has.
      await store.annotate("octo/hello#1", { renderedVersion: 3 });
      expect(await redis.pttl(key), state).toBeGreaterThan(0);
    }

    expect(await store.claim(record(1))).toEqual({ created: true, run: FINAL_STATES.length + 1 });
    expect(await redis.pttl(key)).toBe(-1);
    await store.update("octo/hello#1", { state: "waiting", waitingFor: "a login" });
    expect(await redis.pttl(key)).toBe(-1);
  });

  it("an expired record's id leaves the recent-tasks list at the next claim; a live task's id stays", async () => {
    const store = new TaskStore(redis, prefix, 300);
    await store.claim(record(10, { queuedAt: Date.now() - 60_000 }));
    await store.update("octo/hello#10", { state: "waiting", waitingFor: "the usage limit to reset" });
    await store.claim(record(11));
    await store.update("octo/hello#11", { state: "no-changes", finishedAt: Date.now() });
    await waitFor("the finished record to expire", async () => (await redis.exists(store.key("octo/hello#11"))) === 0);

    await store.claim(record(12));
    expect(await redis.zrange(`${prefix}:tasks`, 0, -1)).toEqual(["octo/hello#10", "octo/hello#12"]);
    expect((await store.get("octo/hello#10"))?.state).toBe("waiting");
    expect(await redis.pttl(store.key("octo/hello#10"))).toBe(-1);
  });

  it("a task whose record expired runs again at run 1, though its old run's job is still kept", async () => {
    const retention = { taskMs: 60_000, dedupeMs: 60_000 };
    const store = new TaskStore(redis, prefix, retention.taskMs);
    const deps = { ...intakeDeps(redis, prefix), store, queues: new TaskQueues({ connection: redis, prefix, retention, secrets: TEST_TASK_SECRETS }) };
    const worker = new Worker("tasks-general", async () => "done", { connection: redis, prefix });
    try {
      const first = await enqueueDirect(deps, { number: 20, cloneUrl: "file:///nowhere" });
      const job = await waitFor("the first run's job to complete", async () => {
        const kept = await deps.queues.queue("tasks-general").getJob(taskJobId(first.taskId, 1));
        return (await kept?.isCompleted()) ? kept : undefined;
      });
      await worker.close();
      // What the retention does to the record after its run finished.
      await redis.del(store.key(first.taskId));

      const again = await claimTestTask(deps, { number: 20, title: "Again" });
      expect(again.run).toBe(1);
      await deps.queues.add(again);
      const requeued = await deps.queues.queue("tasks-general").getJob(job.id!);
      expect(["waiting", "prioritized"]).toContain(await requeued?.getState());
      expect(requeued?.data.issue.title).toBe("Again");
    } finally {
      await worker.close();
      await deps.queues.close();
      await deps.events.close();
    }
  });
});

/** Every wave runs the same mix, so waves are comparable: a batch of this many tasks per outcome, then cancelled ones. */
const BATCH = 9;
const SCENARIOS = ["edit", "no-changes", "max-turns"] as const;
const CANCELLED_PER_WAVE = 2;
/** One completed and one failed run that end each wave; see below. */
const CLOSING = ["no-changes", "max-turns"] as const;
const TASKS_PER_WAVE = SCENARIOS.length * BATCH + CANCELLED_PER_WAVE + CLOSING.length;
const WAVES = 3;
/** Shrunk to seconds through the operators' own settings, for the app side and the agent alike. */
const RETENTION_ENV = { CCC_TASK_RETENTION_DAYS: String(2 / 86_400), CCC_DEDUPE_WINDOW_HOURS: String(2 / 3_600) };

describe("a cluster that runs wave after wave of tasks", () => {
  beforeAll(() => {
    for (const [name, value] of Object.entries(RETENTION_ENV)) vi.stubEnv(name, value);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });
  const bed = useTestbed();
  let reporter: Reporter;
  let scenarioFile: string;
  beforeAll(() => {
    reporter = new Reporter({
      connection: bed.redis,
      prefix: bed.prefix,
      store: bed.deps.store,
      getOctokit: async () => new TestOctokit({ auth: "test" }),
      coalesceMs: 200,
    });
    reporter.start();
    scenarioFile = join(bed.origin.dir, "..", "scenario");
  });
  afterAll(async () => {
    await reporter.close();
  });

  function nockGitHub(): void {
    let comments = 1000;
    let pulls = 1;
    const repo = "/repos/octo-org/hello";
    nock(API)
      .persist()
      .post(new RegExp(`${repo}/issues/\\d+/comments`))
      .reply(201, () => ({ id: ++comments }));
    nock(API)
      .persist()
      .patch(new RegExp(`${repo}/issues/comments/\\d+`))
      .reply(200, {});
    nock(API)
      .persist()
      .post(new RegExp(`${repo}/issues/\\d+/labels`))
      .reply(200, []);
    nock(API)
      .persist()
      .delete(new RegExp(`${repo}/issues/\\d+/labels/.+`))
      .reply(200, []);
    nock(API).persist().get(`${repo}/pulls`).query(true).reply(200, []);
    nock(API)
      .persist()
      .post(`${repo}/pulls`)
      .reply(201, () => ({ number: ++pulls, html_url: `https://github.com/octo-org/hello/pull/${pulls}` }));
  }

  /** Finished, or gone: a claimed record disappears only by expiring after a final state. */
  async function finished(taskIds: string[]): Promise<boolean> {
    for (const id of taskIds) {
      const r = await bed.deps.store.get(id);
      if (r && !FINAL_STATES.includes(r.state)) return false;
    }
    return true;
  }

  /** Runs one task per issue number, each ended by the fake Claude with `scenario`, until all are finished. */
  async function runBatch(scenario: string, numbers: number[]): Promise<string[]> {
    await writeFile(scenarioFile, scenario);
    const ids: string[] = [];
    for (const number of numbers) ids.push((await enqueueDirect(bed.deps, { number, cloneUrl: bed.origin.url })).taskId);
    // Generous: nine runs of the fake CLI through git, four at a time, on a loaded 2-core machine.
    await waitFor(`the ${scenario} tasks ${numbers[0]}… to finish`, () => finished(ids), 60_000);
    return ids;
  }

  /** No job waiting or running on the events queue or the agent's: every finished run has reached its final set. */
  async function idle(): Promise<boolean> {
    for (const name of [EVENTS_QUEUE, "tasks-general"]) {
      const queue = new Queue(name, { connection: bed.redis, prefix: bed.prefix, skipMetasUpdate: true });
      try {
        const counts = await queue.getJobCounts("waiting", "delayed", "prioritized", "active");
        if (Object.values(counts).some((n) => n > 0)) return false;
      } finally {
        await queue.close();
      }
    }
    return true;
  }

  const gone = async (ids: string[]) => (await bed.redis.exists(...ids.map((id) => bed.deps.store.key(id)))) === 0;
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

  // About 65 s on a quiet 2-core machine, over 90 s on a loaded one: the time limit only catches a hang.
  it("settles at the same number of keys after every wave, and never expires a live task", async () => {
    expect(readRetention().taskMs).toBe(2_000);
    nockGitHub();
    await writeFile(scenarioFile, "no-changes");
    await bed.startAgent({ name: "waves", extraArgs: ["--concurrency", "4"], env: { ...RETENTION_ENV, FAKE_CLAUDE_SCENARIO_FILE: scenarioFile } });

    // Live tasks that must outlive every expiry: nobody serves `frontend`.
    const live: string[] = [];
    for (const [i, state] of (["queued", "waiting", "running"] as const).entries()) {
      const task = await enqueueDirect(bed.deps, { number: 900 + i, cloneUrl: bed.origin.url, specialty: "frontend" });
      if (state !== "queued") await bed.deps.store.update(task.taskId, { state });
      live.push(task.taskId);
    }

    const perWave: Array<{ keys: number; bytes: number; recentTasks: number }> = [];
    for (let wave = 1; wave <= WAVES; wave++) {
      const first = wave * 100;
      const ids: string[] = [];
      for (const [s, scenario] of SCENARIOS.entries()) ids.push(...(await runBatch(scenario, range(first + s * BATCH, BATCH))));
      for (const number of range(first + 80, CANCELLED_PER_WAVE)) {
        const task = await enqueueDirect(bed.deps, { number, cloneUrl: bed.origin.url, specialty: "frontend" });
        expect(await cancelTask(bed.deps, task.taskId, "test")).toBe("cancelled");
        ids.push(task.taskId);
      }
      await waitFor(`wave ${wave}: the queues to go idle`, idle, 20_000);
      await waitFor(`wave ${wave}: the finished records to expire`, () => gone(ids), 10_000);

      // BullMQ drops finished jobs past their age only when another job of the same queue
      // finishes (the same way). One completed and one failed run, now that the wave's jobs
      // are past their age, leave every wave with the same few jobs behind.
      for (const [c, scenario] of CLOSING.entries()) await runBatch(scenario, [first + 90 + c]);
      await waitFor(`wave ${wave}: the closing runs to leave the queues`, idle, 20_000);

      for (const id of live) {
        expect((await bed.deps.store.get(id))?.state, id).toMatch(/^(queued|waiting|running)$/);
        expect(await bed.redis.pttl(bed.deps.store.key(id)), id).toBe(-1);
        expect(await bed.redis.zscore(`${bed.prefix}:tasks`, id), id).not.toBeNull();
      }
      const keys = await keysUnder(bed.redis, bed.prefix);
      const sizes = await Promise.all(keys.map((k) => bed.redis.memory("USAGE", k)));
      perWave.push({
        keys: keys.length,
        bytes: sizes.reduce<number>((sum, n) => sum + (n ?? 0), 0),
        recentTasks: await bed.redis.zcard(`${bed.prefix}:tasks`),
      });
    }

    console.info(`after each wave of ${TASKS_PER_WAVE} tasks:`, JSON.stringify(perWave));
    const counts = perWave.map((w) => w.keys);
    // Without retention every wave would add a record, a job and several events per task. A wave
    // may end with a few short-lived keys (locks, dedupe marks) already gone: fewer is no leak.
    expect(Math.max(...counts) - counts[0]!).toBeLessThanOrEqual(4);
    for (const w of perWave) expect(w.recentTasks).toBeLessThanOrEqual(live.length + TASKS_PER_WAVE);
    await bed.stopAgents();
  }, 240_000);
});
