import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UsageReport } from "../src/ops/usage/usage-monitor.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { UsageStore } from "../src/store/usage-store.js";
import { CCC_BIN, REPO_ROOT, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { commentPayload, labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";

interface SeenRun {
  argv: string[];
  cwd: string;
  prompt: string;
}

/** The task runs the fake CLI saw, in order (the agent's login probes left out). */
async function runsSeen(log: string): Promise<SeenRun[]> {
  const text = await readFile(log, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as SeenRun)
    .filter((run) => !run.prompt.startsWith("Reply with the single word OK"));
}

const resumeOf = (run: SeenRun) => {
  const i = run.argv.indexOf("--resume");
  return i >= 0 ? run.argv[i + 1] : undefined;
};

describe("resumed sessions: a retry on the agent that kept the worktree continues Claude's session", () => {
  let cluster: Cluster;
  let scratch: string;
  beforeAll(async () => {
    cluster = await startCluster();
    scratch = await mkdtemp(join(tmpdir(), "ccc-resume-"));
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** An agent whose fake CLI is interrupted on its first run, with its own sessions dir and args log. */
  async function interruptedAgent(name: string): Promise<{ agent: AgentProcess; sessions: string; args: string }> {
    const sessions = join(scratch, `${name}-sessions`);
    const args = join(scratch, `${name}-args.jsonl`);
    const agent = await cluster.startAgent({
      name,
      env: { FAKE_CLAUDE_SCENARIO: "interrupted-once", FAKE_CLAUDE_SESSIONS_DIR: sessions, FAKE_CLAUDE_ARGS_LOG: args },
    });
    return { agent, sessions, args };
  }

  /** The task's record once `check` holds; on a timeout the error shows the record and the agent's last lines. */
  async function recordWhen(taskId: string, what: string, check: (r: TaskRecord) => boolean, agent: AgentProcess, timeoutMs = 30_000): Promise<TaskRecord> {
    return waitFor(
      what,
      async () => {
        const r = await cluster.store.get(taskId);
        return r && check(r) ? r : undefined;
      },
      timeoutMs,
    ).catch(async (error: Error) => {
      const record = JSON.stringify(await cluster.store.get(taskId));
      throw new Error(`${error.message}\nrecord: ${record}\nagent:\n${agent.output().slice(-3_000)}`);
    });
  }

  function ccc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CCC_BIN, ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, CCC_PREFIX: cluster.prefix },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.once("exit", (code) => resolve({ code, stdout, stderr }));
    });
  }

  it("an attempt interrupted midway is retried with --resume <its session> in the same worktree, ends in one PR, and the saved tokens show in ccc usage", async () => {
    const { github } = cluster;
    const { agent, args } = await interruptedAgent("resume-agent");
    const taskId = `${REPO}#21`;
    const tracking = () => github.comments(REPO, 21).filter((c) => c.user.type === "Bot");

    await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url, number: 21, title: "Add a note" }));
    // The first attempt stops on an API 500 after its edit; the session and the worktree stay.
    const interrupted = await recordWhen(taskId, "the first attempt to fail", (r) => r.failure?.kind === "network" && r.state === "queued", agent);
    expect(interrupted.session).toMatchObject({ agent: "resume-agent", run: 1 });
    const sessionId = interrupted.session!.id;
    const keptDir = interrupted.session!.dir;
    expect(keptDir.startsWith(join(agent.workdir, "worktrees"))).toBe(true);
    expect(existsSync(join(keptDir, "CLAUDE_CHANGE.md"))).toBe(true);

    // The retry (after BullMQ's backoff) resumes and opens the pull request.
    await waitFor("the PR link in the tracking comment", async () => tracking()[0]?.body.includes("/pull/"), 60_000);
    const runs = await runsSeen(args);
    expect(runs).toHaveLength(2);
    expect(resumeOf(runs[0]!)).toBeUndefined();
    expect(resumeOf(runs[1]!)).toBe(sessionId);
    expect(runs[1]!.cwd).toBe(runs[0]!.cwd);
    expect(runs[1]!.cwd).toBe(keptDir);
    // The continuation says why the last run stopped, not the whole task again.
    expect(runs[1]!.prompt).toContain("interrupted");
    expect(runs[1]!.prompt).toContain("API Error: 500");
    expect(runs[1]!.prompt).not.toContain("<issue>");

    expect(github.pulls(REPO)).toHaveLength(1);
    expect(tracking()).toHaveLength(1);
    expect(tracking()[0]!.bodies.some((body) => body.includes("resumed session"))).toBe(true);
    const done = await cluster.store.get(taskId);
    expect(done).toMatchObject({ state: "pr-open", attempt: 2, resumed: true });

    // A finished task keeps no worktree.
    await waitFor("the worktree to be removed", async () => !existsSync(keptDir));
    const index = JSON.parse(await readFile(join(agent.workdir, "kept-worktrees.json"), "utf8")) as { worktrees: unknown[] };
    expect(index.worktrees).toEqual([]);

    const usage = await ccc(["usage", "--json"]);
    expect(usage.code).toBe(0);
    const report = JSON.parse(usage.stdout) as UsageReport;
    expect(report.resumes).toMatchObject({ resumedRuns: 1, compared: 1 });
    expect(report.resumes.savedInputTokens).toBeGreaterThan(0);
    expect(report.resumes.firstAttemptInputTokens).toBe(4200);
    const resumed = (await new UsageStore(cluster.redis, cluster.prefix).range(0, Date.now())).find((entry) => entry.taskId === taskId && entry.resumed);
    console.log(
      `resumed retry on the scripted CLI: ${resumed?.inputTokens} input, ${resumed?.outputTokens} output tokens; ${report.resumes.resumedInputTokens} input tokens against ${report.resumes.firstAttemptInputTokens} for the first attempt (saved ${report.resumes.savedInputTokens} input, ${report.resumes.savedOutputTokens} output)`,
    );
    const text = await ccc(["usage"]);
    expect(text.stdout).toMatch(/RESUMED SESSIONS 7D: 1 run; saved \d+ input and \d+ output tokens/);
    await agent.stop();
  }, 120_000);

  it("a resume whose session is gone runs afresh in the same attempt and still ends in one PR", async () => {
    const { github } = cluster;
    const { agent, sessions, args } = await interruptedAgent("gone-agent");
    const taskId = `${REPO}#22`;

    await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url, number: 22, title: "Add another note" }));
    const interrupted = await recordWhen(taskId, "the first attempt to fail", (r) => r.failure?.kind === "network" && r.state === "queued", agent);
    const sessionId = interrupted.session!.id;
    // Claude's history of the session is gone (cleared, another login) before the retry.
    await rm(join(sessions, `${sessionId}.json`));

    const done = await recordWhen(taskId, "the PR", (r) => r.state === "pr-open", agent, 60_000);
    expect(done.attempt).toBe(2);
    expect(done.resumed).toBeUndefined();
    const runs = await runsSeen(args);
    expect(runs.map(resumeOf)).toEqual([undefined, sessionId, undefined]);
    expect(new Set(runs.map((run) => run.cwd)).size).toBe(1);
    expect(runs[2]!.prompt).toContain("<issue>");
    expect(agent.output()).toContain("Claude no longer has the session to resume: running afresh in the same attempt");
    expect(github.pulls(REPO).filter((pull) => pull.head.includes("issue-22"))).toHaveLength(1);
    // The usage monitor counts the fresh retry as a fresh run, not as a resume.
    const entries = (await new UsageStore(cluster.redis, cluster.prefix).range(0, Date.now())).filter((entry) => entry.taskId === taskId);
    expect(entries.map((entry) => ({ attempt: entry.attempt, resumed: entry.resumed, outcome: entry.outcome }))).toEqual([
      { attempt: 1, resumed: false, outcome: "network" },
      { attempt: 2, resumed: false, outcome: "success" },
    ]);
    console.log(`fresh retry on the scripted CLI: ${entries[1]!.inputTokens} input, ${entries[1]!.outputTokens} output tokens`);
    await agent.stop();
  }, 120_000);

  it("`/claude retry` after a final failure continues the session on the agent that kept it, with the comments written since", async () => {
    const { github } = cluster;
    const args = join(scratch, "retry-args.jsonl");
    const scenario = join(scratch, "retry-scenario");
    await writeFile(scenario, "max-turns");
    const agent = await cluster.startAgent({ name: "retry-agent", env: { FAKE_CLAUDE_SCENARIO_FILE: scenario, FAKE_CLAUDE_ARGS_LOG: args } });
    const taskId = `${REPO}#23`;
    const options = { cloneUrl: cluster.origin.url, number: 23, title: "Add a third note" };

    await cluster.deliver("issues", labeledPayload("claude", options));
    const failed = await recordWhen(taskId, "the task to fail on max turns", (r) => r.state === "failed", agent);
    const session = failed.session!;
    // The failed task's worktree stays for a retry.
    await waitFor("the kept worktree", async () => existsSync(session.dir));

    await writeFile(scenario, "edit");
    github.addComment(REPO, 23, "Please also mention the footer.");
    const retry = github.addComment(REPO, 23, "/claude retry");
    await cluster.deliver("issue_comment", commentPayload("/claude retry", { ...options, commentId: retry.id }));

    const done = await recordWhen(taskId, "the PR", (r) => r.state === "pr-open", agent, 40_000);
    expect(done).toMatchObject({ run: 2, resumed: true, session: { id: session.id, run: 2, agent: "retry-agent" } });
    const runs = await runsSeen(args);
    expect(runs.map(resumeOf)).toEqual([undefined, session.id]);
    expect(runs[1]!.cwd).toBe(session.dir);
    expect(runs[1]!.prompt).toContain("/claude retry");
    expect(runs[1]!.prompt).toContain("Please also mention the footer.");
    await waitFor("the worktree to be removed", async () => !existsSync(session.dir));
    await agent.stop();
  }, 120_000);

  it("an agent killed with SIGKILL mid-run and started again on the same PC continues the session in the worktree it left", async () => {
    const args = join(scratch, "killed-args.jsonl");
    const hold = join(scratch, "killed-release");
    const env = { FAKE_CLAUDE_ARGS_LOG: args, FAKE_CLAUDE_HOLD_FILE: hold, CCC_LOCK_SECONDS: "3" };
    const doomed = await cluster.startAgent({ name: "crash-pc", env });
    const taskId = `${REPO}#25`;
    await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url, number: 25, title: "Add a fifth note" }));
    // Claude has named its session and committed its change; it waits before its result line.
    const running = await recordWhen(taskId, "Claude's session on the record", (r) => r.state === "running" && r.session !== undefined, doomed);
    const session = running.session!;
    await waitFor("Claude's commit", async () => (await runsSeen(args)).length === 1 && existsSync(join(session.dir, "CLAUDE_CHANGE.md")));

    doomed.child.kill("SIGKILL");
    // The PC comes back: the same agent, on the same workdir, once its name is free again.
    const registry = new AgentRegistry(cluster.redis, cluster.prefix);
    await waitFor("the killed agent's name to be free", async () => !(await registry.list()).some((a) => a.name === "crash-pc"), 30_000);
    await writeFile(hold, "");
    const again = await cluster.startAgent({ name: "crash-pc", env, workdir: doomed.workdir });

    const done = await recordWhen(taskId, "the PR", (r) => r.state === "pr-open", again, 60_000);
    expect(done).toMatchObject({ run: 1, resumed: true, session: { id: session.id, agent: "crash-pc" } });
    const runs = await runsSeen(args);
    expect(runs.map(resumeOf)).toEqual([undefined, session.id]);
    expect(runs[1]!.cwd).toBe(session.dir);
    expect(cluster.github.pulls(REPO).filter((p) => p.head.includes("issue-25"))).toHaveLength(1);
    await again.stop();
  }, 120_000);

  it("with --keep-worktrees-mb 0 no worktree is kept: a failed task's worktree goes at once and `/claude retry` starts afresh", async () => {
    const args = join(scratch, "nokeep-args.jsonl");
    const scenario = join(scratch, "nokeep-scenario");
    await writeFile(scenario, "max-turns");
    const agent = await cluster.startAgent({
      name: "nokeep-agent",
      env: { FAKE_CLAUDE_SCENARIO_FILE: scenario, FAKE_CLAUDE_ARGS_LOG: args },
      extraArgs: ["--keep-worktrees-mb", "0"],
    });
    const taskId = `${REPO}#24`;
    const options = { cloneUrl: cluster.origin.url, number: 24, title: "Add a fourth note" };

    await cluster.deliver("issues", labeledPayload("claude", options));
    const failed = await recordWhen(taskId, "the task to fail on max turns", (r) => r.state === "failed", agent);
    await waitFor("the worktree to be removed", async () => !existsSync(failed.session!.dir));

    await writeFile(scenario, "edit");
    const retry = cluster.github.addComment(REPO, 24, "/claude retry");
    await cluster.deliver("issue_comment", commentPayload("/claude retry", { ...options, commentId: retry.id }));
    const done = await recordWhen(taskId, "the PR", (r) => r.state === "pr-open", agent, 40_000);
    expect(done.resumed).toBeUndefined();
    expect((await runsSeen(args)).map(resumeOf)).toEqual([undefined, undefined]);
    await agent.stop();
  }, 90_000);
});
