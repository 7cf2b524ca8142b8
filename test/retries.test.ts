import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { TaskQueues } from "../src/queue/task-queues.js";
import { renderTrackingComment } from "../src/reporter/render-tracking-comment.js";
import { startAgentProcess, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { createOrigin, type Origin } from "./helpers/git-origin.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { enqueueDirect } from "./helpers/tasks.js";

describe("retries", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let origin: Origin;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    redis = connectRedis();
    // Short backoff so three attempts fit in a test; production waits 30 s, 60 s.
    deps = { ...intakeDeps(redis, prefix), queues: new TaskQueues({ connection: redis, prefix, retryDelayMs: 200 }) };
    origin = await createOrigin();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await closeIntakeDeps(deps);
    await origin.cleanup();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("a network failure is tried three times, shown as attempt n/3, then fails with the reason", async () => {
    const agent = await startAgentProcess({ name: "flaky-net", prefix, redis, env: { FAKE_CLAUDE_SCENARIO: "network" } });
    agents.push(agent);
    const task = await enqueueDirect(deps, { number: 91, cloneUrl: origin.url });
    const record = await waitFor("the task to fail", async () => {
      const r = await deps.store.get(task.taskId);
      return r?.state === "failed" ? r : undefined;
    }, 30_000);
    expect(record.attempt).toBe(3);
    expect(record.failure?.kind).toBe("network");
    expect(record.failure?.message).toMatch(/connect/i);
    expect(renderTrackingComment(record, Date.now())).toContain("attempt 3/3");
    await agent.stop();
    agents.pop();
  }, 45_000);

  it("max turns fails at once, without a second attempt", async () => {
    agents.push(await startAgentProcess({ name: "turns", prefix, redis, env: { FAKE_CLAUDE_SCENARIO: "max-turns" } }));
    const task = await enqueueDirect(deps, { number: 92, cloneUrl: origin.url });
    const record = await waitFor("the task to fail", async () => {
      const r = await deps.store.get(task.taskId);
      return r?.state === "failed" ? r : undefined;
    }, 20_000);
    expect(record.attempt).toBe(1);
    expect(record.failure?.kind).toBe("max-turns");
    expect(renderTrackingComment(record, Date.now())).toContain("/claude retry");
  }, 30_000);
});
