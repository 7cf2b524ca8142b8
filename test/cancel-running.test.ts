import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cancelTask } from "../src/control/cancel-task.js";
import { waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { liveClaudeProcesses } from "./helpers/claude-processes.js";
import { listBranches } from "./helpers/git-origin.js";
import { pendingEvents } from "./helpers/intake.js";
import { enqueueDirect } from "./helpers/tasks.js";
import { useTestbed } from "./helpers/testbed.js";

function worktrees(workdir: string): string[] {
  const root = join(workdir, "worktrees", "octo-org", "hello");
  return existsSync(root) ? readdirSync(root) : [];
}

describe("cancelling a running task", () => {
  const bed = useTestbed();
  let agent: AgentProcess;
  beforeAll(async () => {
    agent = await bed.startAgent({ name: "canceller", env: { FAKE_CLAUDE_SCENARIO: "hang" } });
  });

  it("a cancel aborts the run within 5 s, cleans the worktree and pushes nothing", async () => {
    const { redis, prefix, deps, origin } = bed;
    const task = await enqueueDirect(deps, { number: 61, cloneUrl: origin.url });
    await waitFor(
      "Claude to run in the task's worktree",
      async () => (await deps.store.get(task.taskId))?.state === "running" && worktrees(agent.workdir).length === 1,
    );
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
