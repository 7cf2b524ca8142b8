import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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
  it("runs every task the previous release left queued, waiting, scheduled or reported, once each, and none it had finished", async () => {
    const previous = previousRelease();
    expect(previous.bullmqVersion).toMatch(/^5\./);
    expect(previous.ioredisVersion).toMatch(/^5\./);
    const scratch = mkdtempSync(join(tmpdir(), "ccc-upgrade-"));
    const runLog = join(scratch, "runs.jsonl");
    const agentEnv = { FAKE_CLAUDE_RUN_LOG: runLog, FAKE_CLAUDE_DELAY_MS: "6000" };
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
      const old = await c.startAgent({ name: "old-pc", bin: previous.cccBin, env: agentEnv });

      // Finished before the upgrade: must not run again.
      await c.deliver("issues", labeledPayload("claude", issue(11)));
      await waitFor(
        "#11's PR under the previous release",
        inState(11, (r) => r.state === "pr-open"),
        60_000,
      );

      // Running as the operator starts the upgrade, and reported while the app is down.
      await c.deliver("issues", labeledPayload("claude", issue(12)));
      await waitFor(
        "#12 running",
        inState(12, (r) => r.state === "running"),
      );
      // Left on the queues behind it: a normal and a high task, and one scheduled.
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

      // docs/operations.md, "Upgrading a running cluster": pause, let the run end, stop every part.
      expect((await runCcc(c.prefix, ["pause"], {}, previous.cccBin)).code).toBe(0);
      expect(await c.app.stop()).toBe(0);
      await waitFor(
        "#12 pushed with no app",
        inState(12, (r) => r.result !== undefined),
        30_000,
      );
      expect(await old.stop()).toBe(0);
      expect((await record(12))!.state).toBe("running");

      // What BullMQ 5 left in Redis.
      const general = new Queue(taskQueueName("general"), { connection: c.redis, prefix: c.prefix });
      const events = new Queue(EVENTS_QUEUE, { connection: c.redis, prefix: c.prefix });
      try {
        expect(await general.getJobCounts("wait", "prioritized", "delayed")).toEqual({ wait: 0, prioritized: 2, delayed: 1 });
        expect((await events.getJobCounts("wait")).wait).toBeGreaterThan(0);
      } finally {
        await Promise.all([general.close(), events.close()]);
      }
      expect(c.github.pulls(REPO).map((p) => p.head)).toEqual([expect.stringContaining("claude/issue-11-")]);

      // The current release on the same Redis and prefix: app and one agent for every specialty.
      upgraded = await startAppProcess({ prefix: c.prefix, env: { ...c.github.env, REDIS_URL, CCC_RECONCILE_SECONDS: "1" } });
      agent = await c.startAgent({ name: "new-pc", env: { FAKE_CLAUDE_RUN_LOG: runLog } });
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
      const json = JSON.parse((await runCcc(c.prefix, ["status", "--json"])).stdout) as { control: { mode: string; by: string } };
      expect(json.control).toMatchObject({ mode: "paused", by: expect.stringMatching(/^ccc \(/) });
      expect(await (await upgraded.request("/api/v1/control")).json()).toMatchObject({ control: { mode: "paused" } });
      for (const number of [13, 14]) expect((await record(number))!.state).toBe("queued");
      expect((await runCcc(c.prefix, ["resume"])).code).toBe(0);

      const done = new Map<number, TaskRecord>();
      for (const number of [13, 14, 15]) {
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
      for (const number of [13, 14, 15]) expect(done.get(number)!.agent).toBe("new-pc");
      expect((await record(12))!.agent).toBe("old-pc");

      // Once each: one PR and one Claude run per task, and #11 untouched.
      const heads = c.github.pulls(REPO).map((p) => /claude\/issue-(\d+)-/.exec(p.head)?.[1]);
      expect(heads.sort()).toEqual(["11", "12", "13", "14", "15"]);
      expect(Object.fromEntries(runsByIssue(runLog))).toEqual({ 11: 1, 12: 1, 13: 1, 14: 1, 15: 1 });
      expect((await record(11))!.run).toBe(1);
      await waitFor("the tracking comments at pr-open", async () =>
        [12, 13, 14, 15].every((n) =>
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
