import { readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { liveClaudeProcesses } from "./helpers/claude-processes.js";
import { useCluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";

describe("the git remote is down", () => {
  const cluster = useCluster();
  let agent: AgentProcess;
  beforeAll(async () => {
    agent = await cluster.startAgent({ name: "pusher", env: { FAKE_CLAUDE_DELAY_MS: "2000" } });
  }, 60_000);

  const record =
    (check: (r: TaskRecord) => boolean, number = 95) =>
    async () => {
      const r = await cluster.store.get(`${REPO}#${number}`);
      return r && check(r) ? r : undefined;
    };

  it("the push is tried again until the remote is back: no second Claude run, one PR, and the issue says what it waits for", async () => {
    await cluster.deliver("issues", labeledPayload("claude", { number: 95, title: "Push through an outage", cloneUrl: cluster.origin.url }));
    // Claude's process, not only the record: the worktree has been made from the remote by then.
    // (Under worktrees/: the agent's login probe also runs a claude, in the workdir itself.)
    await waitFor("Claude running", async () => liveClaudeProcesses([join(agent.workdir, "worktrees")]).length > 0);
    // The remote disappears while Claude works (the worktree was made from it already).
    const away = `${cluster.origin.dir}.away`;
    await rename(cluster.origin.dir, away);
    try {
      const waiting = await waitFor(
        "the push note",
        record((r) => r.waitingFor?.startsWith("the push of") === true),
        30_000,
      ).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${JSON.stringify(await cluster.store.get(`${REPO}#95`))}\n${agent.output().slice(-3000)}`);
      });
      expect(waiting.waitingFor).toContain("next try at");
      await waitFor("the note on the issue", async () => cluster.github.comments(REPO, 95).some((c) => c.body.includes("waiting for the push of")), 20_000);
    } finally {
      await rename(away, cluster.origin.dir);
    }
    const done = await waitFor(
      "the PR",
      record((r) => r.state === "pr-open"),
      60_000,
    );
    expect(done.attempt).toBe(1);
    expect(done.waitingFor).toBeUndefined();
    expect(cluster.github.pulls(REPO)).toHaveLength(1);
    // Claude ran once: one transcript for the issue.
    const transcripts = await readdir(join(agent.workdir, "transcripts", "octo-org", "hello"));
    expect(transcripts.filter((f) => f.startsWith("issue-95-"))).toHaveLength(1);
  }, 120_000);

  it("before Claude starts: the task waits on the queue without spending an attempt, and runs once the remote is back", async () => {
    const away = `${cluster.origin.dir}.away`;
    await rename(cluster.origin.dir, away);
    try {
      await cluster.deliver("issues", labeledPayload("claude", { number: 96, title: "Fetch through an outage", cloneUrl: cluster.origin.url }));
      const waiting = await waitFor(
        "the task waiting for the remote",
        record((r) => r.state === "waiting", 96),
        30_000,
      );
      expect(waiting.waitingFor).toMatch(/^git to reach octo-org\/hello \(could not (fetch|clone) .*\); next try at /);
      await waitFor("the note on the issue", async () => cluster.github.comments(REPO, 96).some((c) => c.body.includes("**Waiting**: git to reach")), 20_000);
    } finally {
      await rename(away, cluster.origin.dir);
    }
    const done = await waitFor(
      "the PR",
      record((r) => r.state === "pr-open", 96),
      60_000,
    );
    expect(done.attempt).toBe(1);
    expect(cluster.github.pulls(REPO).filter((p) => p.head.includes("issue-96-"))).toHaveLength(1);
  }, 120_000);
});
