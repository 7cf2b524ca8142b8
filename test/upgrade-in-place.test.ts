import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { EVENTS_QUEUE } from "../src/queue/reporter-event.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { taskQueueName } from "../src/queue/task-queues.js";
import { waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { startAppProcess, type AppProcess } from "./helpers/app-process.js";
import { deliver } from "./helpers/app-server.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { commentPayload, labeledPayload } from "./helpers/payloads.js";
import { runCcc } from "./helpers/ccc-cli.js";
import { previousRelease } from "./helpers/previous-release.js";
import { REDIS_URL } from "./helpers/redis.js";

const REPO = "octo-org/hello";

/** Claude's runs from the fake CLI's log, by issue (the agents' login probes left out). */
function runsByIssue(log: string): Map<number, number> {
  const runs = new Map<number, number>();
  if (!existsSync(log)) return runs;
  for (const line of readFileSync(log, "utf8").split("\n")) {
    if (line === "") continue;
    const { branch } = JSON.parse(line) as { branch: string | null };
    const number = /^claude\/issue-(\d+)-/.exec(branch ?? "")?.[1];
    if (number) runs.set(Number(number), (runs.get(Number(number)) ?? 0) + 1);
  }
  return runs;
}

describe("upgrading a stopped cluster in place from BullMQ 5 / ioredis 5 to BullMQ 6 / ioredis 6", () => {
  it("runs every task the previous release left queued, waiting for a usage reset, scheduled or reported, once each, and none it had finished", async () => {
    const previous = previousRelease();
    expect(previous.bullmqVersion).toMatch(/^5\./);
    expect(previous.ioredisVersion).toMatch(/^5\./);
    const scratch = mkdtempSync(join(tmpdir(), "ccc-upgrade-"));
    const runLog = join(scratch, "runs.jsonl");
    const scenario = join(scratch, "scenario");
    writeFileSync(scenario, "edit");
    const agentEnv = { FAKE_CLAUDE_RUN_LOG: runLog, FAKE_CLAUDE_DELAY_MS: "6000" };
    // Whole seconds, as the CLI reports a reset; far enough ahead to outlast the stop and the upgrade.
    const resetAt = Math.ceil(Date.now() / 1000) + 40;
    let cluster: Cluster | undefined;
    let upgraded: AppProcess | undefined;
    let agent: AgentProcess | undefined;
    try {
      // The previous release: its app and a frontend agent, both on BullMQ 5.
      cluster = await startCluster({ appEntry: previous.appEntry, env: { CCC_RECONCILE_SECONDS: "1" } });
      const c = cluster;
      const record = (number: number) => c.store.get(`${REPO}#${number}`);
      const inState = (number: number, check: (r: TaskRecord) => boolean) => async () => {
        const found = await record(number);
        return found && check(found) ? found : undefined;
      };
      const issue = (number: number, labels: string[] = []) => ({ number, title: `Issue ${number}`, cloneUrl: c.origin.url, labels });
      c.github.setIssue(REPO, 900, { title: "Pull requests are numbered above here" });
      // Two PCs of the previous release: one for frontend work, one (another Claude account) for docs.
      const old = await c.startAgent({ name: "old-pc", specialties: "frontend", bin: previous.cccBin, env: agentEnv });
      const limited = await c.startAgent({
        name: "old-docs-pc",
        specialties: "docs",
        bin: previous.cccBin,
        env: { ...agentEnv, CCC_ACCOUNT: "docs-seat", FAKE_CLAUDE_SCENARIO_FILE: scenario, FAKE_CLAUDE_RESET: String(resetAt) },
      });
      // Its login probe at start passed; its next run meets the account's usage limit.
      writeFileSync(scenario, "usage-limit");

      // Finished before the upgrade: must not run again.
      await c.deliver("issues", labeledPayload("claude:frontend", issue(11)));
      await waitFor(
        "#11's PR under the previous release",
        inState(11, (r) => r.state === "pr-open"),
        60_000,
      );

      // Running as the operator starts the upgrade: #12 pushes, and #17 hits its account's usage
      // limit, both reported while the app is down; #17 then waits for an agent of another account.
      await c.deliver("issues", labeledPayload("claude:frontend", issue(12)));
      await c.deliver("issues", labeledPayload("claude:docs", issue(17)));
      for (const number of [12, 17])
        await waitFor(
          `#${number} running`,
          inState(number, (r) => r.state === "running"),
        );
      // The cluster paused first, as the upgrade steps say: nothing else starts on the old release.
      expect((await runCcc(c.prefix, ["pause"], {}, previous.cccBin)).code).toBe(0);
      // Left on the queues behind them: a normal and a high task, and one scheduled.
      const at = Math.ceil((Date.now() + 45_000) / 1000) * 1000;
      await c.deliver("issues", labeledPayload("claude", issue(13)));
      await c.deliver("issues", labeledPayload("claude", issue(14, ["priority:high"])));
      const when = new Date(at).toISOString().replace(".000Z", "Z");
      await c.deliver("issue_comment", commentPayload(`/claude run at ${when}`, { ...issue(15), commentId: 1515 }));
      for (const number of [13, 14, 15])
        await waitFor(
          `#${number} queued`,
          inState(number, (r) => r.state === "queued"),
        );

      // docs/operations.md, "Upgrading a running cluster": pause, let the runs end, stop every part.
      expect(await c.app.stop()).toBe(0);
      await waitFor(
        "#12 pushed with no app",
        inState(12, (r) => r.result !== undefined),
        30_000,
      );
      const waiting = await waitFor(
        "#17 waiting for its account's reset",
        inState(17, (r) => r.state === "waiting"),
        30_000,
      );
      expect(waiting.waitingFor).toContain(`the usage limit to reset at ${new Date(resetAt * 1000).toISOString()}`);
      expect(await old.stop()).toBe(0);
      expect(await limited.stop()).toBe(0);
      expect((await record(12))!.state).toBe("running");

      // What BullMQ 5 left in Redis.
      const general = new Queue(taskQueueName("general"), { connection: c.redis, prefix: c.prefix });
      const events = new Queue(EVENTS_QUEUE, { connection: c.redis, prefix: c.prefix });
      const docs = new Queue(taskQueueName("docs"), { connection: c.redis, prefix: c.prefix });
      try {
        expect(await general.getJobCounts("wait", "prioritized", "delayed")).toEqual({ wait: 0, prioritized: 2, delayed: 1 });
        // Not the task's fault: back on its queue for an agent of another account.
        expect(await docs.getJobCounts("wait", "prioritized", "delayed")).toEqual({ wait: 0, prioritized: 1, delayed: 0 });
        expect((await events.getJobCounts("wait")).wait).toBeGreaterThan(0);
      } finally {
        await Promise.all([general.close(), events.close(), docs.close()]);
      }
      expect(c.github.pulls(REPO).map((p) => p.head)).toEqual([expect.stringContaining("claude/issue-11-")]);

      // The current release on the same Redis and prefix: app and one agent for every specialty.
      upgraded = await startAppProcess({ prefix: c.prefix, env: { ...c.github.env, REDIS_URL, CCC_RECONCILE_SECONDS: "1" } });
      agent = await c.startAgent({ name: "new-pc", specialties: "frontend,docs", env: { FAKE_CLAUDE_RUN_LOG: runLog } });
      // The reported push becomes its PR while the cluster is still paused; the queue waits, and says so.
      await waitFor(
        "#12's PR from the upgraded app",
        inState(12, (r) => r.state === "pr-open"),
        60_000,
      );
      const status = await runCcc(c.prefix, ["status"]);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^Cluster: PAUSED by ccc \(.+\) \d+s ago: .*`ccc resume` lifts it$/m);
      expect(status.stdout).toMatch(/^tasks-general\s+2\s+0\s+1\s+0$/m);
      expect(status.stdout).toMatch(/^tasks-docs\s+1\s+0\s+0\s+0$/m);
      const json = JSON.parse((await runCcc(c.prefix, ["status", "--json"])).stdout) as { control: { mode: string; by: string } };
      expect(json.control).toMatchObject({ mode: "paused", by: expect.stringMatching(/^ccc \(/) });
      expect(await (await upgraded.request("/api/v1/control")).json()).toMatchObject({ control: { mode: "paused" } });
      for (const number of [13, 14]) expect((await record(number))!.state).toBe("queued");
      expect((await runCcc(c.prefix, ["resume"])).code).toBe(0);

      const done = new Map<number, TaskRecord>();
      for (const number of [13, 14, 15, 17]) {
        done.set(
          number,
          await waitFor(
            `#${number}'s PR after the upgrade`,
            inState(number, (r) => r.state === "pr-open"),
            90_000,
          ),
        );
      }
      expect(done.get(15)!.startedAt!).toBeGreaterThanOrEqual(at);
      expect(done.get(14)!.startedAt!).toBeLessThan(done.get(13)!.startedAt!);
      for (const number of [13, 14, 15, 17]) expect(done.get(number)!.agent).toBe("new-pc");
      expect((await record(12))!.agent).toBe("old-pc");

      // Once each: one PR and one Claude run per task, and #11 untouched.
      const heads = c.github.pulls(REPO).map((p) => /claude\/issue-(\d+)-/.exec(p.head)?.[1]);
      expect(heads.sort()).toEqual(["11", "12", "13", "14", "15", "17"]);
      // #17's first run is the one its usage limit stopped; the second, on another account, is its PR.
      expect(Object.fromEntries(runsByIssue(runLog))).toEqual({ 11: 1, 12: 1, 13: 1, 14: 1, 15: 1, 17: 2 });
      expect((await record(11))!.run).toBe(1);
      await waitFor("the tracking comments at pr-open", async () =>
        [12, 13, 14, 15, 17].every((n) =>
          c.github
            .comments(REPO, n)
            .find((m) => m.user.type === "Bot")
            ?.body.includes("**Pull request opened**"),
        ),
      );
      // A webhook after the upgrade is taken as before.
      const later = await deliver(`${upgraded.base}/api/github/webhooks`, "issues", labeledPayload("claude", issue(16)));
      expect(later.status).toBe(200);
      await waitFor(
        "#16's PR",
        inState(16, (r) => r.state === "pr-open"),
        60_000,
      );
      expect((await c.eventCounts()).failed).toBe(0);
    } finally {
      await agent?.stop();
      await upgraded?.stop();
      await cluster?.stop();
      previous.remove();
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 300_000);
});
