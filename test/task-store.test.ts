import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TaskStore } from "../src/queue/task-store.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

function record(overrides: Partial<TaskRecord> = {}): Omit<TaskRecord, "run" | "version" | "jobId"> {
  return {
    taskId: "octo/hello#7",
    owner: "octo",
    repo: "hello",
    issueNumber: 7,
    installationId: 1,
    title: "Fix it",
    state: "queued",
    specialty: "general",
    priority: "normal",
    reason: "default",
    branch: "claude/issue-7-fix-it",
    baseBranch: "main",
    queue: "tasks-general",
    draftPullRequest: false,
    queuedAt: Date.now(),
    ...overrides,
  };
}

describe("TaskStore", () => {
  let redis: Redis;
  let prefix: string;
  let store: TaskStore;
  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });

  it("a second claim on a live task does not start another run", async () => {
    prefix = randomPrefix();
    store = new TaskStore(redis, prefix);
    expect(await store.claim(record())).toEqual({ created: true, run: 1 });
    expect(await store.claim(record())).toEqual({ created: false, run: 1 });
    expect((await store.get("octo/hello#7"))?.state).toBe("queued");
  });

  it("a claim after a final state starts run 2 and keeps the tracking comment", async () => {
    prefix = randomPrefix();
    store = new TaskStore(redis, prefix);
    await store.claim(record());
    await store.annotate("octo/hello#7", { commentId: 99 });
    await store.update("octo/hello#7", { state: "failed", failure: { kind: "max-turns", message: "too long" } });
    expect(await store.claim(record())).toEqual({ created: true, run: 2 });
    const again = await store.get("octo/hello#7");
    // Versions go on from run 1's (2): a version read of run 1 never matches run 2.
    expect(again).toMatchObject({ run: 2, state: "queued", commentId: 99, version: 3 });
    expect(again?.failure).toBeUndefined();
    expect(await store.update("octo/hello#7", { agent: "pc-1" }, undefined, { version: 2 })).toBe(false);
  });

  it("update applies only from the allowed states and bumps the version", async () => {
    prefix = randomPrefix();
    store = new TaskStore(redis, prefix);
    await store.claim(record());
    expect(await store.update("octo/hello#7", { state: "running", agent: "pc-1" }, ["queued"])).toBe(true);
    expect(await store.update("octo/hello#7", { state: "running", agent: "pc-2" }, ["queued"])).toBe(false);
    const got = await store.get("octo/hello#7");
    expect(got).toMatchObject({ state: "running", agent: "pc-1", version: 2 });
    await store.annotate("octo/hello#7", { renderedVersion: 2 });
    expect((await store.get("octo/hello#7"))?.version).toBe(2);
    await store.update("octo/hello#7", { agent: null });
    expect((await store.get("octo/hello#7"))?.agent).toBeUndefined();
  });

  it("an unknown task is neither found nor updated", async () => {
    prefix = randomPrefix();
    store = new TaskStore(redis, prefix);
    expect(await store.get("octo/none#1")).toBeUndefined();
    expect(await store.update("octo/none#1", { state: "failed" })).toBe(false);
  });
});
