import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { onBlockerClosed } from "../src/app/check-dependencies.js";
import { holdDraft } from "../src/app/hold-draft.js";
import type { GitHubClient } from "../src/github/github-client.js";
import { releaseBlockedTask, requeueHeldJob } from "../src/app/release-blocked-task.js";
import { ACTIONS_QUEUE } from "../src/dispatcher/actions-queue.js";
import type { TaskDraft } from "../src/queue/task-factory.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { taskQueueName } from "../src/queue/task-queues.js";
import { Reconciler } from "../src/reconciler/reconciler.js";
import { BlockedTasks } from "../src/store/blocked-tasks.js";
import { closeIntakeDeps, intakeDeps, waitingJobs } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const HOUR = 3_600_000;

function draft(number: number): TaskDraft {
  return {
    taskId: `octo-org/hello#${number}`,
    repo: { owner: "octo-org", name: "hello", cloneUrl: "https://github.com/octo-org/hello.git", defaultBranch: "main" },
    installationId: 1,
    issue: { number, title: `Task ${number}`, body: "Blocked by #40", url: `https://github.com/octo-org/hello/issues/${number}`, author: "maintainer" },
    comments: [],
    specialty: "general",
    priority: "normal",
    reason: "test",
    trigger: { kind: "label", actor: "maintainer", deliveryId: `d-${number}` },
    branch: `claude/issue-${number}-task`,
    settings: { maxTurns: 5, timeoutMinutes: 5, allowedTools: ["Edit"], permissionMode: "acceptEdits", draftPullRequest: false },
    createdAt: Date.now(),
  };
}

const BLOCKED = { kind: "blocked" as const, open: ["octo-org/hello#40"], unreadable: [] };

describe("a blocked task's held job", () => {
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

  const ids = async (queue: string) => (await waitingJobs(redis, prefix, queue)).map((job) => job.id);
  const record = async (number: number) => (await deps.store.get(`octo-org/hello#${number}`))!;

  it("waits with no job; released, it goes on its queue once, in runner mode on the dispatcher's, which is nudged", async () => {
    let nudges = 0;
    const held = await holdDraft(deps, draft(41), ACTIONS_QUEUE, BLOCKED);
    expect(held).toMatchObject({ status: "blocked", run: 1, waitsFor: ["octo-org/hello#40"] });
    expect(await record(41)).toMatchObject({ state: "blocked", queue: ACTIONS_QUEUE, dependsOn: { open: ["octo-org/hello#40"] } });
    expect(await ids(ACTIONS_QUEUE)).toEqual([]);
    expect(await new BlockedTasks(redis, prefix).dependents("octo-org/hello#40")).toEqual(["octo-org/hello#41"]);

    const release = { ...deps, dispatchNow: () => void nudges++ };
    const [first, second] = await Promise.all([releaseBlockedTask(release, await record(41), "test"), releaseBlockedTask(release, await record(41), "test")]);
    expect([first, second].sort()).toEqual(["not-blocked", "queued"]);
    expect(await ids(ACTIONS_QUEUE)).toEqual(["octo-org/hello#41@1"]);
    expect(nudges).toBe(1);
    const queued = await record(41);
    expect(queued.state).toBe("queued");
    expect(queued.dependsOn).toBeUndefined();
    expect(await new BlockedTasks(redis, prefix).held("octo-org/hello#41")).toBeUndefined();
    expect(await new BlockedTasks(redis, prefix).dependents("octo-org/hello#40")).toEqual([]);
  });

  it("a held job changed in Redis is never queued: the task fails saying why", async () => {
    await holdDraft(deps, draft(42), taskQueueName("general"), BLOCKED);
    const key = `${prefix}:held-job:octo-org/hello#42`;
    const held = JSON.parse((await redis.get(key))!);
    held.data.settings.permissionMode = "bypassPermissions";
    await redis.set(key, JSON.stringify(held));
    expect(await releaseBlockedTask(deps, await record(42), "test")).toBe("failed");
    expect(await ids(taskQueueName("general"))).toEqual([]);
    expect(await record(42)).toMatchObject({ state: "failed", failure: { kind: "invalid-request" } });
    expect((await record(42)).failure!.message).toContain("signature does not match");
  });

  it("the reconciler leaves a long-blocked task alone but checks it; a released task whose job never reached its queue is queued from its held job", async () => {
    await holdDraft(deps, draft(43), taskQueueName("general"), BLOCKED);
    await holdDraft(deps, draft(44), taskQueueName("general"), BLOCKED);
    // #44 was released, and the app stopped before its job was added.
    await deps.store.update("octo-org/hello#44", { state: "queued", dependsOn: null }, ["blocked"]);
    const checked: string[] = [];
    const reconciler = new Reconciler({
      ...deps,
      now: () => Date.now() + HOUR,
      blocked: {
        check: async (task: TaskRecord) => checked.push(task.taskId),
        requeue: (task: TaskRecord) => requeueHeldJob(deps, task),
        everyMs: 60_000,
      },
    });
    await reconciler.tick();
    expect(checked).toEqual(["octo-org/hello#43"]);
    expect((await record(43)).state).toBe("blocked");
    expect(await ids(taskQueueName("general"))).toEqual(["octo-org/hello#44@1"]);
    expect((await record(44)).state).toBe("queued");
    // Checked a moment ago (its record says so): not again before `everyMs`.
    await deps.store.annotate("octo-org/hello#43", { dependsOn: { open: ["octo-org/hello#40"], unreadable: [], checkedAt: Date.now() + HOUR } });
    await reconciler.tick();
    expect(checked).toEqual(["octo-org/hello#43"]);
  });

  it("a blocker's close checks five dependents inside the webhook and marks the rest for the reconciler's next pass", async () => {
    for (let number = 51; number <= 57; number++) await holdDraft(deps, draft(number), taskQueueName("general"), BLOCKED);
    const reads: number[] = [];
    // GitHub as the check reads it: each dependent open, its body naming #40 (closed: not asked).
    const octokit = {
      rest: {
        issues: {
          get: async ({ issue_number }: { issue_number: number }) => {
            reads.push(issue_number);
            return { data: { number: issue_number, state: "open", body: "Blocked by #40", repository_url: "https://api.github.com/repos/octo-org/hello" } };
          },
        },
      },
    } as unknown as GitHubClient;
    await onBlockerClosed({ ...deps, getOctokit: async () => octokit }, { owner: "Octo-Org", repo: "Hello", number: 40 });
    expect(reads).toHaveLength(5);
    const records = await Promise.all([51, 52, 53, 54, 55, 56, 57].map(record));
    expect(records.filter((r) => r.state === "queued")).toHaveLength(5);
    const left = records.filter((r) => r.state === "blocked");
    expect(left.map((r) => r.dependsOn?.checkedAt)).toEqual([0, 0]);
    expect(await ids(taskQueueName("general"))).toHaveLength(5);
  });
});
