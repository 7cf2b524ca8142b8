import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queueDraft } from "../src/app/enqueue-task.js";
import type { IssueContext } from "../src/app/issue-context.js";
import { readLabelDelivery } from "../src/app/read-label-delivery.js";
import { DEFAULT_REPO_CONFIG } from "../src/config/repo-config.js";
import { luaScript, runLuaScript } from "../src/queue/lua-script.js";
import { TaskQueues, taskJobId } from "../src/queue/task-queues.js";
import type { TaskDraft } from "../src/queue/task-factory.js";
import { TaskStore } from "../src/queue/task-store.js";
import { waitFor } from "./helpers/agent-process.js";
import { closeIntakeDeps, intakeDeps, pendingEvents } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { claimTestTask } from "./helpers/tasks.js";
import { TEST_TASK_SECRETS } from "./helpers/task-secret.js";

const OWNER = "octo-org";
const REPO = "hello";

function labelContext(number: number, deliveryId = randomUUID()): IssueContext {
  return { owner: OWNER, repo: REPO, actor: "Maintainer", deliveryId, issue: { number } } as IssueContext;
}

function draft(number: number, title: string): TaskDraft {
  return {
    taskId: `${OWNER}/${REPO}#${number}`,
    repo: { owner: OWNER, name: REPO, cloneUrl: "file:///nowhere", defaultBranch: "main" },
    installationId: 1,
    issue: { number, title, body: "Do the thing.", url: `https://github.com/${OWNER}/${REPO}/issues/${number}`, author: "maintainer" },
    comments: [],
    specialty: "general",
    priority: "normal",
    reason: "test",
    trigger: { kind: "label", actor: "maintainer", deliveryId: randomUUID() },
    branch: `claude/issue-${number}`,
    settings: { maxTurns: 5, timeoutMinutes: 5, allowedTools: ["Edit"], permissionMode: "acceptEdits", draftPullRequest: false },
    createdAt: Date.now(),
  };
}

/** What a label delivery sends to Redis on its way to a queued task: few round trips, same guarantees. */
describe("webhook ingest round trips", () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });

  it("reads the config and permission caches and the task record, and marks the delivery, in one script; a redelivery is not first", async () => {
    prefix = randomPrefix();
    const deps = intakeDeps(redis, prefix);
    try {
      await redis.set(`${prefix}:repo-config:${OWNER}/${REPO}`, "triggerLabel: go\n", "EX", 60);
      await redis.set(`${prefix}:perm:${OWNER}/${REPO}:maintainer`, "write", "EX", 60);
      const task = await claimTestTask(deps, { number: 5 });
      const ctx = labelContext(5);

      const state = await readLabelDelivery(deps, ctx);
      expect(state).toMatchObject({ configText: "triggerLabel: go\n", first: true, cachedRole: "write" });
      expect(state.existing()).toMatchObject({ taskId: task.taskId, run: 1, state: "queued" });
      expect(await redis.pttl(`${prefix}:delivery:${ctx.deliveryId}`)).toBeGreaterThan(0);

      const again = await readLabelDelivery(deps, ctx);
      expect(again.first).toBe(false);
      const cold = await readLabelDelivery(deps, { ...labelContext(6), repo: "other" } as IssueContext);
      expect(cold).toMatchObject({ configText: null, first: true, cachedRole: null });
      expect(cold.existing()).toBeUndefined();
    } finally {
      await closeIntakeDeps(deps);
    }
  });

  it("a script Redis does not hold yet is sent once by its text, then by its SHA1", async () => {
    prefix = randomPrefix();
    const script = luaScript(`-- ${randomUUID()}\nreturn redis.call('INCR', KEYS[1])`);
    expect(await redis.script("EXISTS", script.sha)).toEqual([0]);
    expect(await runLuaScript(redis, script, 1, [`${prefix}:n`])).toBe(1);
    expect(await redis.script("EXISTS", script.sha)).toEqual([1]);
    expect(await runLuaScript(redis, script, 1, [`${prefix}:n`])).toBe(2);
  });

  it("a claim probes the job id of the run it creates, and says nothing for another run or a refused claim", async () => {
    prefix = randomPrefix();
    const deps = intakeDeps(redis, prefix);
    try {
      const key = `${prefix}:probe`;
      const first = await deps.store.claim(newRecord(7), { run: 1, key });
      expect(first).toEqual({ created: true, run: 1, probed: false });
      expect(await deps.store.claim(newRecord(7), { run: 2, key })).toEqual({ created: false, run: 1 });
      await deps.store.update(`${OWNER}/${REPO}#7`, { state: "failed", finishedAt: Date.now() });
      await redis.set(key, "a job's hash");
      expect(await deps.store.claim(newRecord(7), { run: 2, key })).toEqual({ created: true, run: 2, probed: true });
      await deps.store.update(`${OWNER}/${REPO}#7`, { state: "failed", finishedAt: Date.now() });
      expect(await deps.store.claim(newRecord(7), { run: 9, key })).toEqual({ created: true, run: 3 });
    } finally {
      await closeIntakeDeps(deps);
    }
  });

  it("queues the task's job and its task-changed event; a run whose record expired replaces its old run's kept job", async () => {
    prefix = randomPrefix();
    const retention = { taskMs: 60_000, dedupeMs: 60_000 };
    const store = new TaskStore(redis, prefix, retention.taskMs);
    const deps = { ...intakeDeps(redis, prefix), store, queues: new TaskQueues({ connection: redis, prefix, retention, secrets: TEST_TASK_SECRETS }) };
    const worker = new Worker("tasks-general", async () => "done", { connection: redis, prefix });
    try {
      const first = await queueDraft(deps, draft(20, "First"), DEFAULT_REPO_CONFIG, 1);
      expect(first).toMatchObject({ status: "queued", run: 1 });
      expect(await pendingEvents(redis, prefix)).toEqual([expect.objectContaining({ type: "task-changed", taskId: `${OWNER}/${REPO}#20` })]);
      const jobId = taskJobId(`${OWNER}/${REPO}#20`, 1);
      await waitFor("the first run's job to complete", async () => (await deps.queues.queue("tasks-general").getJob(jobId))?.isCompleted());
      await worker.close();
      // What the retention does to the record after its run finished; the job is still kept.
      await redis.del(store.key(`${OWNER}/${REPO}#20`));

      const again = await queueDraft(deps, draft(20, "Again"), DEFAULT_REPO_CONFIG, 1);
      expect(again).toMatchObject({ status: "queued", run: 1 });
      const requeued = await deps.queues.queue("tasks-general").getJob(jobId);
      expect(["waiting", "prioritized"]).toContain(await requeued?.getState());
      expect(requeued?.data.issue.title).toBe("Again");
    } finally {
      await worker.close();
      await closeIntakeDeps(deps);
    }
  });
});

function newRecord(number: number) {
  return {
    taskId: `${OWNER}/${REPO}#${number}`,
    owner: OWNER,
    repo: REPO,
    issueNumber: number,
    installationId: 1,
    title: "Fix it",
    state: "queued" as const,
    specialty: "general",
    priority: "normal" as const,
    reason: "default",
    branch: `claude/issue-${number}-fix-it`,
    baseBranch: "main",
    queue: "tasks-general",
    draftPullRequest: false,
    queuedAt: Date.now(),
  };
}
