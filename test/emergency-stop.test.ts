import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ClusterControl } from "../src/store/cluster-control.js";
import { waitFor } from "./helpers/agent-process.js";
import { liveClaudeProcesses } from "./helpers/claude-processes.js";
import { heartbeatAfter, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { enqueueDirect } from "./helpers/tasks.js";
import { useTestbed } from "./helpers/testbed.js";

describe("pause, emergency stop and resume", () => {
  const bed = useTestbed();

  it("stop aborts every running Claude within 5 s and returns the tasks unspent; only resume lifts it", async () => {
    const { redis, prefix, deps, origin, agents } = bed;
    const control = new ClusterControl(redis, prefix);
    // Claude runs until it is killed, so both tasks are mid-flight when the stop comes however
    // slow the machine is; after the stop it finishes normally.
    const scenario = join(await mkdtemp(join(tmpdir(), "ccc-stop-")), "scenario");
    await writeFile(scenario, "hang");
    const env = { FAKE_CLAUDE_SCENARIO_FILE: scenario };
    await bed.startAgent({ name: "stop-1", env });
    await bed.startAgent({ name: "stop-2", env });
    const roots = agents.map((a) => join(a.workdir, "worktrees"));
    const tasks = [await enqueueDirect(deps, { number: 51, cloneUrl: origin.url }), await enqueueDirect(deps, { number: 52, cloneUrl: origin.url })];
    // Each agent clones the origin first; on a loaded machine that alone can take many seconds.
    await waitFor("two running Claude processes", async () => liveClaudeProcesses(roots).length === 2, 60_000).catch(async (error: Error) => {
      const records = await Promise.all(tasks.map((t) => deps.store.get(t.taskId)));
      throw new Error(
        `${error.message}\n${JSON.stringify(records.map((r) => ({ state: r?.state, agent: r?.agent, failure: r?.failure })))}\n${agents.map((a) => a.output().slice(-2000)).join("\n---\n")}`,
      );
    });

    const stoppedAt = Date.now();
    await control.stop("test");
    await waitFor("no Claude process left", async () => liveClaudeProcesses(roots).length === 0, 5_000);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);

    for (const task of tasks) {
      const record = await waitFor("the task to wait", async () => {
        const r = await deps.store.get(task.taskId);
        return r?.state === "waiting" ? r : undefined;
      });
      expect(record.waitingFor).toContain("emergency stop");
    }
    const jobs = await waitingJobs(redis, prefix, "tasks-general");
    expect(jobs.map((j) => j.attemptsMade)).toEqual([0, 0]);
    await waitFor("both agents to show stopped", async () => (await deps.registry.list()).every((a) => a.state === "stopped"));

    // An agent started during the stop obeys it too.
    await bed.startAgent({ name: "late" });
    const lateStarted = Date.now();
    await waitFor("the late agent to show stopped", async () => (await deps.registry.list()).find((a) => a.name === "late")?.state === "stopped");
    // Two heartbeats later it has re-read the cluster's mode at least once, and still took nothing.
    await waitFor("a later heartbeat of the late agent", async () => heartbeatAfter(deps, "late", lateStarted + 2_500), 10_000);
    expect(liveClaudeProcesses([...roots, join(agents[2]!.workdir, "worktrees")])).toEqual([]);
    expect((await waitingJobs(redis, prefix, "tasks-general")).map((j) => j.attemptsMade)).toEqual([0, 0]);

    await writeFile(scenario, "edit");
    await control.resume("test");
    await waitFor("both tasks pushed after resume", async () => (await pendingEvents(redis, prefix)).filter((e) => e.type === "pushed").length === 2, 30_000);
  }, 90_000);

  it("pause lets running work finish and takes nothing new", async () => {
    const { redis, prefix, deps, origin } = bed;
    const control = new ClusterControl(redis, prefix);
    await control.pause("test");
    await bed.startAgent({ name: "paused" });
    const task = await enqueueDirect(deps, { number: 53, cloneUrl: origin.url });
    // A heartbeat after the enqueue plus a resync (2 s): the agent saw the task could be taken, and did not take it.
    const enqueuedAt = Date.now();
    const agent = await waitFor("a heartbeat of the paused agent after the enqueue", async () => heartbeatAfter(deps, "paused", enqueuedAt + 2_500), 10_000);
    expect(agent).toMatchObject({ state: "paused", tasks: [] });
    expect((await deps.store.get(task.taskId))?.state).toBe("queued");
    await control.resume("test");
    await waitFor("the task to run after resume", async () => (await deps.store.get(task.taskId))?.agent !== undefined, 15_000);
  }, 60_000);
});
