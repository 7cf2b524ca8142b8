import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { startAgentProcess, waitFor } from "./helpers/agent-process.js";
import { createOrigin, listBranches, type Origin } from "./helpers/git-origin.js";
import { closeIntakeDeps, intakeDeps, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { enqueueDirect } from "./helpers/tasks.js";

describe("an agent stopped mid-task", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let origin: Origin;

  beforeAll(async () => {
    redis = connectRedis();
    deps = intakeDeps(redis, prefix);
    origin = await createOrigin();
  });
  afterAll(async () => {
    await closeIntakeDeps(deps);
    await origin.cleanup();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("SIGTERM puts the running task back on its queue without spending an attempt, and another agent finishes it", async () => {
    const slow = await startAgentProcess({ name: "slow", prefix, redis, env: { FAKE_CLAUDE_DELAY_MS: "60000" } });
    const data = await enqueueDirect(deps, { number: 21, cloneUrl: origin.url });
    await waitFor("the task to run on the slow agent", async () => {
      const record = await deps.store.get(data.taskId);
      return record?.state === "running" && record.agent === "slow";
    });

    const code = await slow.stop("SIGTERM");
    expect(code).toBe(0);
    expect((await deps.store.get(data.taskId))?.state).toBe("queued");
    const [job] = await waitingJobs(redis, prefix, "tasks-general");
    expect(job?.id).toBe(`${data.taskId}@1`);
    expect(job?.attemptsMade).toBe(0);
    expect((await deps.registry.list()).map((a) => a.name)).not.toContain("slow");

    const quick = await startAgentProcess({ name: "quick", prefix, redis });
    try {
      await waitFor("the branch to be pushed", async () => (await pendingEvents(redis, prefix)).some((e) => e.type === "pushed"), 30_000);
      expect(await listBranches(origin.dir)).toContain(data.branch);
      expect((await deps.store.get(data.taskId))?.agent).toBe("quick");
    } finally {
      await quick.stop();
    }
  }, 60_000);
});
