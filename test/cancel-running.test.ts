import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { cancelTask } from "../src/control/cancel-task.js";
import { startAgentProcess, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { liveClaudeProcesses } from "./helpers/claude-processes.js";
import { createOrigin, listBranches, type Origin } from "./helpers/git-origin.js";
import { closeIntakeDeps, intakeDeps, pendingEvents } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { enqueueDirect } from "./helpers/tasks.js";

function worktrees(workdir: string): string[] {
  const root = join(workdir, "worktrees", "octo-org", "hello");
  return existsSync(root) ? readdirSync(root) : [];
}

describe("cancelling a running task", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let origin: Origin;
  let agent: AgentProcess;

  beforeAll(async () => {
    redis = connectRedis();
    deps = intakeDeps(redis, prefix);
    origin = await createOrigin();
    agent = await startAgentProcess({ name: "canceller", prefix, redis, env: { FAKE_CLAUDE_SCENARIO: "hang" } });
  });
  afterAll(async () => {
    await agent.stop();
    await closeIntakeDeps(deps);
    await origin.cleanup();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("a cancel aborts the run within 5 s, cleans the worktree and pushes nothing", async () => {
    const task = await enqueueDirect(deps, { number: 61, cloneUrl: origin.url });
    await waitFor("Claude to run in the task's worktree", async () => (await deps.store.get(task.taskId))?.state === "running" && worktrees(agent.workdir).length === 1);
    await waitFor("Claude's processes", async () => liveClaudeProcesses([join(agent.workdir, "worktrees")]).length > 0);

    const cancelledAt = Date.now();
    expect(await cancelTask(deps, task.taskId, "@maintainer")).toBe("cancelled");
    await waitFor("Claude and its child to be gone", async () => liveClaudeProcesses([agent.workdir]).length === 0, 5_000);
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    await waitFor("the worktree to be removed", async () => worktrees(agent.workdir).length === 0, 5_000);
    const record = await deps.store.get(task.taskId);
    expect(record).toMatchObject({ state: "cancelled", failure: { kind: "cancelled", message: "cancelled by @maintainer" } });
    expect(await listBranches(origin.dir)).not.toContain(task.branch);
    expect((await pendingEvents(redis, prefix)).some((e) => e.type === "pushed")).toBe(false);
  }, 30_000);
});
