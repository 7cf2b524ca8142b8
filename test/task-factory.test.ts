import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimTask, newTaskRecord, type TaskDraft } from "../src/queue/task-factory.js";
import { taskDataSchema } from "../src/queue/task-data.js";
import { signTask, verifyTaskJob } from "../src/queue/task-signature.js";
import { TaskStore } from "../src/queue/task-store.js";
import { TEST_TASK_SECRETS } from "./helpers/task-secret.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const DRAFT: TaskDraft = {
  taskId: "octo/hello#7",
  repo: { owner: "octo", name: "hello", cloneUrl: "https://github.com/octo/hello.git", defaultBranch: "trunk" },
  installationId: 42,
  issue: { number: 7, title: "Fix the login page", body: "It breaks.", url: "https://github.com/octo/hello/issues/7", author: "someone" },
  comments: [],
  specialty: "frontend",
  priority: "high",
  reason: "label claude:frontend",
  trigger: { kind: "label", actor: "maintainer", deliveryId: "d-1" },
  branch: "claude/issue-7-fix-the-login-page",
  settings: { maxTurns: 30, timeoutMinutes: 45, allowedTools: ["Edit"], permissionMode: "acceptEdits", draftPullRequest: true },
  createdAt: 1_700_000_000_000,
};

describe("the task factory", () => {
  it("derives every field of a new run's record from its task", () => {
    expect(newTaskRecord(DRAFT, "tasks-frontend")).toEqual({
      taskId: "octo/hello#7",
      owner: "octo",
      repo: "hello",
      issueNumber: 7,
      installationId: 42,
      title: "Fix the login page",
      state: "queued",
      specialty: "frontend",
      priority: "high",
      reason: "label claude:frontend",
      branch: "claude/issue-7-fix-the-login-page",
      baseBranch: "trunk",
      queue: "tasks-frontend",
      draftPullRequest: true,
      queuedAt: 1_700_000_000_000,
    });
  });

  it("keeps the trace the task was queued in: its carrier in the job data (outside the signature), its trace id on the record", () => {
    const trace = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
    const task = taskDataSchema.parse({ ...DRAFT, run: 1, trace });
    expect(task.trace).toEqual(trace);
    const data = signTask(task, "tasks-frontend", TEST_TASK_SECRETS);
    expect(verifyTaskJob({ id: "octo/hello#7@1", queueName: "tasks-frontend", data }, TEST_TASK_SECRETS)).toEqual({ ok: true, task });
    // Outside the MAC: an agent older than the field drops it and still finds the signature good;
    // a changed carrier only moves the agent's spans to another trace. Everything else stays signed.
    const { trace: _dropped, ...asAnOldAgentReadsIt } = data;
    expect(verifyTaskJob({ id: "octo/hello#7@1", queueName: "tasks-frontend", data: asAnOldAgentReadsIt }, TEST_TASK_SECRETS)).toMatchObject({ ok: true });
    const moved = { ...data, trace: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b8-01" } };
    expect(verifyTaskJob({ id: "octo/hello#7@1", queueName: "tasks-frontend", data: moved }, TEST_TASK_SECRETS)).toMatchObject({ ok: true });
    expect(verifyTaskJob({ id: "octo/hello#7@1", queueName: "tasks-frontend", data: { ...moved, branch: "elsewhere" } }, TEST_TASK_SECRETS)).toMatchObject({
      ok: false,
    });
    const malformed = { ...data, trace: { traceparent: "--dangerously-skip-permissions" } };
    expect(verifyTaskJob({ id: "octo/hello#7@1", queueName: "tasks-frontend", data: malformed }, TEST_TASK_SECRETS)).toMatchObject({ ok: false });
    expect(newTaskRecord({ ...DRAFT, trace }, "tasks-frontend").traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(newTaskRecord(DRAFT, "tasks-frontend")).not.toHaveProperty("traceId");
  });

  describe("claimTask", () => {
    let redis: Redis;
    const prefix = randomPrefix();
    beforeAll(() => {
      redis = connectRedis();
    });
    afterAll(async () => {
      await deletePrefix(redis, prefix);
      await redis.quit();
    });

    it("numbers the run and stores the record the task implies; a second claim while it is live creates nothing", async () => {
      const store = new TaskStore(redis, prefix);
      const first = await claimTask(store, DRAFT, "tasks-frontend");
      expect(first).toEqual({ created: true, task: { ...DRAFT, run: 1 } });
      expect(await store.get(DRAFT.taskId)).toMatchObject({ ...newTaskRecord(DRAFT, "tasks-frontend"), run: 1, jobId: "octo/hello#7@1" });
      expect(await claimTask(store, { ...DRAFT, reason: "again" }, "tasks-frontend")).toEqual({ created: false, run: 1 });
      expect((await store.get(DRAFT.taskId))?.reason).toBe("label claude:frontend");
    });
  });
});
