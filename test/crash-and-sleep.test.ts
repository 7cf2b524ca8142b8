import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { UnrecoverableError, Worker } from "bullmq";
import { describe, expect, it } from "vitest";
import { taskQueueName } from "../src/queue/task-queues.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { liveClaudeProcesses } from "./helpers/claude-processes.js";
import { useCluster, type Cluster } from "./helpers/cluster.js";
import { branchCommits } from "./helpers/git-origin.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { labeledPayload } from "./helpers/payloads.js";
import { claimTestTask } from "./helpers/tasks.js";
import { duplicateClient } from "../src/shared/redis-client.js";

const REPO = "octo-org/hello";

/** The guards leading the process groups of the Claude runs an agent started in its worktrees (not its login probe). */
function claudeGroups(workdir: string): number[] {
  const root = join(workdir, "worktrees");
  const groups: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("claude-guard.mjs")) continue;
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(root)) groups.push(Number(entry));
    } catch {
      // Ended while we looked.
    }
  }
  return groups;
}

const stateIs = (cluster: Cluster, number: number, check: (r: TaskRecord) => boolean) => async () => {
  const record = await cluster.store.get(`${REPO}#${number}`);
  return record && check(record) ? record : undefined;
};

describe("an agent killed with SIGKILL mid-run, with the default lock", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1" } });

  it("its Claude is gone within 5 s, and another live agent runs the task again within 60 s, ending in one PR", async () => {
    const lock = {}; // the agent's default lock (30 s), as users run it
    const doomed = await cluster.startAgent({ name: "doomed", env: { ...lock, FAKE_CLAUDE_DELAY_MS: "120000" } });
    await cluster.deliver("issues", labeledPayload("claude", { number: 71, title: "Survive a crash", cloneUrl: cluster.origin.url }));
    await waitFor(
      "the doomed agent's Claude",
      async () => liveClaudeProcesses([join(doomed.workdir, "worktrees")]).length > 0 && (await stateIs(cluster, 71, (r) => r.agent === "doomed")()),
    );
    await cluster.startAgent({ name: "survivor", env: lock });

    const killedAt = Date.now();
    doomed.child.kill("SIGKILL");
    await waitFor(
      "the orphaned Claude to be gone",
      async () => liveClaudeProcesses([join(doomed.workdir, "worktrees")]).length === 0 && claudeGroups(doomed.workdir).length === 0,
      5_000,
    );
    console.info(
      `figure: kill -9 → orphaned Claude processes gone: ${Date.now() - killedAt} ms, left: ${liveClaudeProcesses([join(doomed.workdir, "worktrees")]).length}`,
    );

    const again = await waitFor(
      "the task running again",
      stateIs(cluster, 71, (r) => r.agent === "survivor" && (r.startedAt ?? 0) > killedAt),
      60_000,
    );
    console.info(`figure: kill -9 → task running again on another agent: ${again.startedAt! - killedAt} ms`);
    await waitFor(
      "the PR",
      stateIs(cluster, 71, (r) => r.state === "pr-open"),
      30_000,
    );
    expect(cluster.github.pulls(REPO)).toHaveLength(1);
  }, 120_000);
});

describe("the lone agent killed and started again, as a service manager restarts it", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1" } });

  it("the restarted agent runs the task again and it ends in one PR", async () => {
    const lock = { CCC_LOCK_SECONDS: "3" };
    const first = await cluster.startAgent({ name: "only-pc", env: { ...lock, FAKE_CLAUDE_DELAY_MS: "120000" } });
    await cluster.deliver("issues", labeledPayload("claude", { number: 72, title: "Lone crash", cloneUrl: cluster.origin.url }));
    await waitFor(
      "the run",
      stateIs(cluster, 72, (r) => r.state === "running" && r.agent === "only-pc"),
    );
    const killedAt = Date.now();
    first.child.kill("SIGKILL");
    // While nobody serves the queue, the comment says what happened.
    await waitFor(
      "the silent-agent note",
      stateIs(cluster, 72, (r) => r.blockedBy?.includes("stopped responding") === true),
    );

    await cluster.startAgent({ name: "only-pc", env: lock });
    await waitFor(
      "the PR",
      stateIs(cluster, 72, (r) => r.state === "pr-open" && (r.startedAt ?? 0) > killedAt),
      60_000,
    );
    expect(cluster.github.pulls(REPO)).toHaveLength(1);
  }, 120_000);
});

describe("a PC that sleeps past its lock", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1" } });

  it("ends in exactly one PR, and the stale run, woken, changes nothing", async () => {
    const lock = { CCC_LOCK_SECONDS: "3" };
    const sleeper = await cluster.startAgent({ name: "sleeper", env: { ...lock, FAKE_CLAUDE_DELAY_MS: "8000" } });
    await cluster.deliver("issues", labeledPayload("claude", { number: 73, title: "Sleep through it", cloneUrl: cluster.origin.url }));
    await waitFor("the sleeper's Claude", async () => claudeGroups(sleeper.workdir).length > 0 && (await stateIs(cluster, 73, (r) => r.agent === "sleeper")()));
    const [group] = claudeGroups(sleeper.workdir);
    sleeper.child.kill("SIGSTOP");
    process.kill(-group!, "SIGSTOP");
    let woken: AgentProcess | undefined = sleeper;
    try {
      await cluster.startAgent({ name: "awake", env: lock });
      const done = await waitFor(
        "the awake agent's PR",
        stateIs(cluster, 73, (r) => r.state === "pr-open" && r.agent === "awake"),
        60_000,
      );

      process.kill(-group!, "SIGCONT");
      sleeper.child.kill("SIGCONT");
      woken = undefined;
      await waitFor("the stale run to be discarded", async () => /stale run discarded|lost the task's lock/.test(sleeper.output()), 30_000);
      await waitFor("the stale Claude to end", async () => claudeGroups(sleeper.workdir).length === 0, 15_000);

      const after = await cluster.store.get(`${REPO}#73`);
      expect(after).toMatchObject({ state: "pr-open", agent: "awake", prNumber: done.prNumber, lease: done.lease, version: done.version });
      expect(cluster.github.pulls(REPO)).toHaveLength(1);
      // Only the awake agent's commit is on the branch: the stale run pushed nothing.
      expect((await branchCommits(cluster.origin.dir, done.branch)).filter((c) => c.startsWith("Update ")).length).toBe(1);
    } finally {
      if (woken) {
        process.kill(-group!, "SIGCONT");
        woken.child.kill("SIGCONT");
      }
    }
  }, 120_000);
});

describe("the lone agent's PC sleeps past its lock", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1" } });

  it("on waking, it drops the stale run and runs the task again itself: one PR", async () => {
    const sleeper = await cluster.startAgent({ name: "laptop", env: { CCC_LOCK_SECONDS: "3", FAKE_CLAUDE_DELAY_MS: "6000" } });
    await cluster.deliver("issues", labeledPayload("claude", { number: 74, title: "Lone sleeper", cloneUrl: cluster.origin.url }));
    await waitFor("the laptop's Claude", async () => claudeGroups(sleeper.workdir).length > 0 && (await stateIs(cluster, 74, (r) => r.agent === "laptop")()));
    const first = (await cluster.store.get(`${REPO}#74`))!;
    const [group] = claudeGroups(sleeper.workdir);
    sleeper.child.kill("SIGSTOP");
    process.kill(-group!, "SIGSTOP");
    // Asleep well past its lock: the silent-agent note shows once the heartbeat is gone.
    await waitFor(
      "the silent-agent note",
      stateIs(cluster, 74, (r) => r.blockedBy?.includes("stopped responding") === true),
      20_000,
    ).finally(() => {
      process.kill(-group!, "SIGCONT");
      sleeper.child.kill("SIGCONT");
    });

    const done = await waitFor(
      "the PR",
      stateIs(cluster, 74, (r) => r.state === "pr-open"),
      60_000,
    );
    expect(done.agent).toBe("laptop");
    expect(done.lease).not.toBe(first.lease);
    expect(sleeper.output()).toMatch(/stale run discarded|lost the task's lock/);
    expect(cluster.github.pulls(REPO)).toHaveLength(1);
  }, 120_000);
});

describe("the reconciler: no task stays running without a live job", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1" } });

  it("fails a task whose job failed by stalling, and one whose job vanished, each with a comment saying what to do", async () => {
    const deps = intakeDeps(cluster.redis, cluster.prefix);
    const worker = new Worker(taskQueueName("general"), null, { connection: duplicateClient(cluster.redis), prefix: cluster.prefix, autorun: false });
    try {
      for (const number of [81, 82]) {
        const data = await claimTestTask(deps, { number, installationId: 4242 });
        await deps.queues.add(data);
        const job = (await worker.getNextJob(`ghost:${number}`))!;
        expect(job.id).toBe(`${data.taskId}@${data.run}`);
        await deps.store.update(data.taskId, { state: "running", agent: "ghost", startedAt: Date.now() });
        // As BullMQ fails a job that stalled too often: at once, whatever attempts are left.
        if (number === 81) {
          await job.moveToFailed(new UnrecoverableError("job stalled more than allowable limit"), `ghost:${number}`, false);
        } else await job.remove().catch(async () => cluster.redis.del(`${cluster.prefix}:${taskQueueName("general")}:${job.id}`));
      }
      const stalled = await waitFor(
        "the stalled task failed",
        stateIs(cluster, 81, (r) => r.state === "failed"),
      );
      expect(stalled.failure?.message).toContain("stopped responding");
      const vanished = await waitFor(
        "the vanished task failed",
        stateIs(cluster, 82, (r) => r.state === "failed"),
      );
      expect(vanished.failure?.message).toContain("disappeared");
      for (const number of [81, 82]) {
        await waitFor(`issue ${number}'s failed comment`, async () =>
          cluster.github.comments(REPO, number).some((c) => c.body.includes("**Failed**") && c.body.includes("/claude retry")),
        );
      }
    } finally {
      await worker.close();
      await closeIntakeDeps(deps);
    }
  }, 60_000);

  it("reports a push again when the task's pushed event is gone, and the task ends with its PR", async () => {
    const deps = intakeDeps(cluster.redis, cluster.prefix);
    const worker = new Worker(taskQueueName("general"), null, { connection: duplicateClient(cluster.redis), prefix: cluster.prefix, autorun: false });
    try {
      const data = await claimTestTask(deps, { number: 83, installationId: 4242 });
      await deps.queues.add(data);
      const job = (await worker.getNextJob("ghost:83"))!;
      await deps.store.update(data.taskId, { state: "running", agent: "ghost", startedAt: Date.now() });
      // The agent pushed and returned, but its pushed event never reached the reporter.
      await job.moveToCompleted("pushed", "ghost:83", false);
      await cluster.redis.hset(`${cluster.prefix}:${taskQueueName("general")}:${job.id}`, "finishedOn", String(Date.now() - 10 * 60_000));
      const done = await waitFor(
        "the PR",
        stateIs(cluster, 83, (r) => r.state === "pr-open"),
        30_000,
      );
      expect(cluster.github.pulls(REPO).filter((p) => p.number === done.prNumber)).toHaveLength(1);
    } finally {
      await worker.close();
      await closeIntakeDeps(deps);
    }
  }, 60_000);
});
