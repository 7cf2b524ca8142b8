import { describe, expect, it } from "vitest";
import type { AgentInfo } from "../src/store/agent-registry.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { describeBlocker } from "../src/reconciler/describe-blocker.js";
import { judgeQueuedTask, judgeRunningTask, type JobView } from "../src/reconciler/judge-running-task.js";

const agent = (name: string, state: string, extra: Partial<AgentInfo> = {}): AgentInfo => ({
  name,
  host: `${name}.lan`,
  account: "team",
  specialties: [],
  concurrency: 1,
  state,
  tasks: [],
  startedAt: 0,
  lastSeen: 0,
  version: "test",
  ...extra,
});
const running = { mode: "running" as const, at: 0 };
const noIssues = new Map<string, string>();

describe("why no agent can take a queued task", () => {
  const cases: Array<[string, Parameters<typeof describeBlocker>[0], string | undefined]> = [
    [
      "an idle agent can take it",
      { specialty: "general", repo: "octo/hello", control: running, agents: [agent("pc-1", "idle")], sessionIssues: noIssues },
      undefined,
    ],
    [
      "a busy agent takes it when its task ends",
      { specialty: "general", repo: "octo/hello", control: running, agents: [agent("pc-1", "busy")], sessionIssues: noIssues },
      undefined,
    ],
    [
      "no agent at all",
      { specialty: "general", repo: "octo/hello", control: running, agents: [], sessionIssues: noIssues },
      "no agent is running: start one with `ccc agent`",
    ],
    [
      "agents, but none serves the specialty",
      { specialty: "frontend", repo: "octo/hello", control: running, agents: [agent("pc-1", "idle", { specialties: ["backend"] })], sessionIssues: noIssues },
      "no live agent serves `frontend`: start one with `ccc agent --specialties frontend`",
    ],
    [
      "the lone agent's login expired, with its issue",
      {
        specialty: "general",
        repo: "octo/hello",
        control: running,
        agents: [agent("pc-2", "session-expired")],
        sessionIssues: new Map([["pc-2", "octo/ops#9"]]),
      },
      "no agent can take it now: pc-2's Claude login has expired, see octo/ops#9 (run `claude /login` on pc-2.lan, then close that issue)",
    ],
    [
      "the lone agent's login expired, issue not yet open",
      { specialty: "general", repo: "octo/hello", control: running, agents: [agent("pc-2", "session-expired")], sessionIssues: noIssues },
      "no agent can take it now: pc-2's Claude login has expired, a session-timeout issue is being opened (run `claude /login` on pc-2.lan, then close that issue)",
    ],
    [
      "every agent over its usage limit, and one shutting down",
      {
        specialty: "general",
        repo: "octo/hello",
        control: running,
        agents: [agent("pc-1", "usage-limit", { pausedUntil: Date.UTC(2026, 0, 1, 5) }), agent("pc-3", "stopping")],
        sessionIssues: noIssues,
      },
      "no agent can take it now: pc-1's Claude account `team` is over its usage limit until 2026-01-01T05:00:00.000Z; pc-3 is shutting down",
    ],
    [
      "one blocked agent and one free one: nothing blocks",
      {
        specialty: "general",
        repo: "octo/hello",
        control: running,
        agents: [agent("pc-1", "session-expired"), agent("pc-2", "idle")],
        sessionIssues: noIssues,
      },
      undefined,
    ],
    [
      "paused cluster wins over idle agents",
      { specialty: "general", repo: "octo/hello", control: { mode: "paused", by: "@admin", at: 0 }, agents: [agent("pc-1", "idle")], sessionIssues: noIssues },
      "the cluster is paused by @admin: `/claude resume` or `ccc resume` lifts it",
    ],
    [
      "stopped cluster",
      { specialty: "backend", repo: "octo/hello", control: { mode: "stopped", by: "ccc", at: 0 }, agents: [], sessionIssues: noIssues },
      "the cluster is stopped (emergency stop by ccc): `/claude resume` or `ccc resume` lifts it",
    ],
    [
      "every agent serving the queue leaves the repository out of its --repos",
      {
        specialty: "general",
        repo: "octo/hello",
        control: running,
        agents: [agent("pc-1", "idle", { repos: ["other-org"] }), agent("pc-2", "idle", { repos: ["octo/world"] })],
        sessionIssues: noIssues,
      },
      "no live agent serves octo/hello (their --repos)",
    ],
    [
      "an agent whose --repos names the owner serves the repository",
      { specialty: "general", repo: "octo/hello", control: running, agents: [agent("pc-1", "idle", { repos: ["Octo"] })], sessionIssues: noIssues },
      undefined,
    ],
    [
      "the only agent serving the repository is over its limit: the others do not count",
      {
        specialty: "general",
        repo: "octo/hello",
        control: running,
        agents: [agent("pc-1", "usage-limit"), agent("pc-2", "idle", { repos: ["other-org"] })],
        sessionIssues: noIssues,
      },
      "no agent can take it now: pc-1's Claude account `team` is over its usage limit",
    ],
  ];
  it.each(cases)("%s", (_name, inputs, expected) => {
    expect(describeBlocker(inputs)).toBe(expected);
  });
});

describe("whether a running task still has a job behind it", () => {
  const task = { taskId: "o/r#1", agent: "pc-1", state: "running" } as TaskRecord;
  const job = (state: string, extra: Partial<JobView> = {}): JobView => ({ state, attemptsMade: 0, ...extra });
  const cases: Array<[string, JobView | undefined, boolean, string]> = [
    ["active with a live agent", job("active"), true, "ok"],
    ["active with a silent agent", job("active"), false, "agent-silent"],
    ["back on the queue after a stall", job("waiting"), false, "requeued"],
    ["prioritized after a stall", job("prioritized"), true, "requeued"],
    ["pushed, waiting for its PR", job("completed", { returnValue: "pushed", finishedOn: 1_000_000 - 60_000 }), true, "ok"],
    ["pushed long ago and still no PR", job("completed", { returnValue: "pushed", finishedOn: 1_000_000 - 600_000 }), true, "pushed-unreported"],
    ["completed without a push", job("completed", { returnValue: "skipped" }), true, "failed"],
    ["failed by stalling", job("failed", { failedReason: "job stalled more than allowable limit", attemptsMade: 2 }), false, "failed"],
    ["job gone", undefined, true, "failed"],
  ];
  it.each(cases)("%s", (_name, view, agentAlive, kind) => {
    expect(judgeRunningTask({ task, job: view, agentAlive, maxAttempts: 3, now: 1_000_000 }).kind).toBe(kind);
  });

  it("a stalled-out task's message says how often and how to run it again", () => {
    const verdict = judgeRunningTask({
      task,
      job: job("failed", { failedReason: "job stalled more than allowable limit", attemptsMade: 2 }),
      agentAlive: false,
      maxAttempts: 3,
      now: 1_000_000,
    });
    expect(verdict).toEqual({
      kind: "failed",
      message: "the agents running it stopped responding 3 times (crashed, or their machines slept): comment `/claude retry` to run it again",
    });
  });

  it("a queued task keeps its job until an agent takes it; a vanished or failed one is failed", () => {
    expect(judgeQueuedTask(job("waiting")).kind).toBe("ok");
    expect(judgeQueuedTask(job("active")).kind).toBe("ok");
    expect(judgeQueuedTask(job("delayed")).kind).toBe("ok");
    expect(judgeQueuedTask(undefined).kind).toBe("failed");
    expect(judgeQueuedTask(job("failed", { failedReason: "boom" }))).toEqual({ kind: "failed", message: "its run failed: boom" });
  });
});
