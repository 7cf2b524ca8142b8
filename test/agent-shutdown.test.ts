import { describe, expect, it } from "vitest";
import { waitFor } from "./helpers/agent-process.js";
import { listBranches } from "./helpers/git-origin.js";
import { pendingEvents, waitingJobs } from "./helpers/intake.js";
import { enqueueDirect } from "./helpers/tasks.js";
import { useTestbed } from "./helpers/testbed.js";

describe("an agent stopped mid-task", () => {
  const bed = useTestbed();

  it("SIGTERM puts the running task back on its queue without spending an attempt, and another agent finishes it", async () => {
    const { redis, prefix, deps, origin } = bed;
    const slow = await bed.startAgent({ name: "slow", env: { FAKE_CLAUDE_DELAY_MS: "60000" } });
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

    await bed.startAgent({ name: "quick" });
    await waitFor("the branch to be pushed", async () => (await pendingEvents(redis, prefix)).some((e) => e.type === "pushed"), 30_000);
    expect(await listBranches(origin.dir)).toContain(data.branch);
    expect((await deps.store.get(data.taskId))?.agent).toBe("quick");
  }, 60_000);
});
