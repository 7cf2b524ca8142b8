import { Gauge, Histogram, type Registry } from "prom-client";
import { FINAL_STATES, TASK_STATES } from "../../shared/task-state.js";
import type { UsageWindow } from "../../config/parse-budgets.js";
import type { ClusterSnapshot } from "./cluster-snapshot.js";
import { pullRequestReport, type PullRequestFigures } from "../pull-request-report.js";

/** Durations and waits count tasks that finished (or started) within this window before the scrape. */
export const HISTOGRAM_WINDOW_MS = 86_400_000;

const MINUTES = [30, 60, 120, 300, 600, 900, 1800, 2700, 3600, 7200];
const WAITS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600];
const LEVEL = { ok: 0, warning: 1, critical: 2 } as const;

/**
 * Gauges set from a cluster snapshot at each scrape, so every app replica reports the same
 * cluster-wide numbers. Duration and wait histograms are rebuilt each scrape from the tasks
 * of the last 24 h: read them with histogram_quantile directly, not with rate().
 */
export class ClusterGauges {
  private readonly g;
  private readonly taskDuration: Histogram<"specialty" | "outcome">;
  private readonly queueWait: Histogram<"specialty">;

  constructor(registry: Registry) {
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({ name, help, labelNames, registers: [registry] });
    this.g = {
      tasks: gauge("ccc_tasks", "Task records by current state and specialty (last run of each issue).", ["state", "specialty"]),
      tasksFailed: gauge("ccc_tasks_failed", "Tasks whose last run failed, by specialty and failure kind.", ["specialty", "kind"]),
      tasksWaiting: gauge("ccc_tasks_waiting", "Tasks in state waiting, by what they wait for (usage-limit, session-expired, other).", ["reason"]),
      queueJobs: gauge("ccc_queue_jobs", "BullMQ jobs per task queue and state.", ["queue", "state"]),
      queueWaiting: gauge("ccc_queue_waiting_jobs", "Jobs ready to run per task queue and priority.", ["queue", "priority"]),
      agents: gauge("ccc_agents", "Live agents by state.", ["state"]),
      agentUp: gauge("ccc_agent_up", "1 for each live agent (heartbeat not expired).", ["agent", "account", "host"]),
      agentRunning: gauge("ccc_agent_running_tasks", "Tasks an agent runs now.", ["agent"]),
      agentSessionExpired: gauge("ccc_agent_session_expired", "1 when the agent reports its Claude session expired.", ["agent", "account"]),
      agentPausedUntil: gauge("ccc_agent_paused_until_seconds", "Unix time until which the agent's account is over its usage limit.", ["agent", "account"]),
      clusterMode: gauge("ccc_cluster_mode", "1 for the cluster's current mode (running, paused, stopped).", ["mode"]),
      cost: gauge("ccc_claude_cost_usd", "Claude cost in USD per agent within the window.", ["agent", "account", "window"]),
      turns: gauge("ccc_claude_turns", "Claude turns per agent within the window.", ["agent", "account", "window"]),
      runs: gauge("ccc_claude_runs", "Claude runs per agent within the window.", ["agent", "account", "window"]),
      tokens: gauge("ccc_claude_tokens", "Claude tokens per agent within the window (agents that report them).", ["agent", "account", "window"]),
      usageLimited: gauge("ccc_claude_usage_limit_hits", "Runs that hit the Claude usage limit, per agent within the window.", ["agent", "account", "window"]),
      sessionExpiries: gauge("ccc_claude_session_expiries", "Runs that found the Claude session expired, per agent within the window.", [
        "agent",
        "account",
        "window",
      ]),
      budget: gauge("ccc_budget_usd", "Configured budget per account over its window.", ["account", "window"]),
      budgetSpent: gauge("ccc_budget_spent_usd", "Spent within the budget's window.", ["account"]),
      budgetRatio: gauge("ccc_budget_used_ratio", "Share of the budget spent (1 = used up).", ["account"]),
      budgetRate: gauge("ccc_budget_rate_usd_per_hour", "Fitted recent spending rate.", ["account"]),
      budgetEta: gauge("ccc_budget_exhausted_in_seconds", "Seconds until the budget is used up at the fitted rate (absent: never).", ["account"]),
      budgetLevel: gauge("ccc_budget_level", "0 ok, 1 warning (80 % or forecast near), 2 critical (used up).", ["account"]),
      pullRequests: gauge("ccc_pull_requests", "Pull requests the cluster opened that were merged or closed, within the task retention, by outcome.", [
        "outcome",
        "specialty",
        "agent",
        "account",
      ]),
      pullRequestCost: gauge("ccc_pull_request_cost_usd", "Claude cost of every run and attempt behind those pull requests, by outcome.", [
        "outcome",
        "specialty",
        "agent",
        "account",
      ]),
      // One series per specialty, per agent and per account: each carries exactly one of the three labels.
      mergeRate: gauge("ccc_pull_request_merge_rate", "merged / (merged + closed) of the cluster's pull requests.", ["specialty", "agent", "account"]),
      costPerMerged: gauge("ccc_pull_request_cost_per_merged_usd", "Claude cost of the merged pull requests divided by their number.", [
        "specialty",
        "agent",
        "account",
      ]),
      fixTasks: gauge(
        "ccc_pull_request_fix_tasks",
        "The last CI-fix or conflict run of each cluster pull request by its outcome (state), within the task retention.",
        ["kind", "state"],
      ),
      fixRunsPerMerged: gauge("ccc_pull_request_fix_runs_per_merged", "CI-fix and conflict runs per merged pull request.", ["kind"]),
      mergedWithoutHumanCommit: gauge(
        "ccc_pull_request_merged_without_human_commit_ratio",
        "Share of the merged pull requests nobody but the cluster pushed to.",
        [],
      ),
      timeToMerge: gauge("ccc_pull_request_time_to_merge_seconds", "From a pull request's opening on GitHub to its merge (stat: p50, mean).", [
        "stat",
        "specialty",
        "agent",
        "account",
      ]),
    };
    this.taskDuration = new Histogram({
      name: "ccc_task_duration_seconds",
      help: "Start to finish of task runs that ended in the last 24 h, by outcome (recomputed per scrape).",
      labelNames: ["specialty", "outcome"],
      buckets: MINUTES,
      registers: [registry],
    });
    this.queueWait = new Histogram({
      name: "ccc_task_queue_wait_seconds",
      help: "Queued to started of task runs that started in the last 24 h (recomputed per scrape).",
      labelNames: ["specialty"],
      buckets: WAITS,
      registers: [registry],
    });
  }

  update(snapshot: ClusterSnapshot, now: number): void {
    for (const gauge of Object.values(this.g)) gauge.reset();
    this.taskDuration.reset();
    this.queueWait.reset();
    const g = this.g;

    for (const state of TASK_STATES) g.tasks.set({ state, specialty: "general" }, 0);
    for (const t of snapshot.tasks) {
      g.tasks.inc({ state: t.state, specialty: t.specialty });
      if (t.fix) g.fixTasks.inc({ kind: t.fix, state: t.state });
      if (t.state === "failed") g.tasksFailed.inc({ specialty: t.specialty, kind: t.failureKind ?? "unknown" });
      if (t.state === "waiting")
        g.tasksWaiting.inc({ reason: t.failureKind === "usage-limit" || t.failureKind === "session-expired" ? t.failureKind : "other" });
      if (t.startedAt !== undefined && now - t.startedAt <= HISTOGRAM_WINDOW_MS)
        this.queueWait.observe({ specialty: t.specialty }, Math.max(0, t.startedAt - t.queuedAt) / 1000);
      if (FINAL_STATES.includes(t.state) && t.startedAt !== undefined && t.finishedAt !== undefined && now - t.finishedAt <= HISTOGRAM_WINDOW_MS) {
        this.taskDuration.observe({ specialty: t.specialty, outcome: t.state }, Math.max(0, t.finishedAt - t.startedAt) / 1000);
      }
    }
    g.tasksWaiting.set({ reason: "usage-limit" }, snapshot.tasks.filter((t) => t.state === "waiting" && t.failureKind === "usage-limit").length);
    g.tasksWaiting.set({ reason: "session-expired" }, snapshot.tasks.filter((t) => t.state === "waiting" && t.failureKind === "session-expired").length);

    for (const q of snapshot.queues) {
      for (const state of ["waiting", "active", "delayed", "failed", "completed"] as const) g.queueJobs.set({ queue: q.queue, state }, q[state]);
      for (const [priority, count] of Object.entries(q.byPriority)) g.queueWaiting.set({ queue: q.queue, priority }, count);
    }

    for (const state of ["idle", "busy", "paused", "session-expired", "stopping"]) g.agents.set({ state }, 0);
    for (const a of snapshot.agents) {
      g.agents.inc({ state: a.state });
      g.agentUp.set({ agent: a.name, account: a.account, host: a.host }, 1);
      g.agentRunning.set({ agent: a.name }, a.tasks.length);
      g.agentSessionExpired.set({ agent: a.name, account: a.account }, a.state === "session-expired" || a.session === "expired" ? 1 : 0);
      if (a.pausedUntil !== undefined && a.pausedUntil > now) g.agentPausedUntil.set({ agent: a.name, account: a.account }, a.pausedUntil / 1000);
    }
    for (const mode of ["running", "paused", "stopped"]) g.clusterMode.set({ mode }, snapshot.control.mode === mode ? 1 : 0);

    for (const a of snapshot.usage.agents) {
      for (const [window, t] of Object.entries(a.windows) as Array<[UsageWindow, (typeof a.windows)[UsageWindow]]>) {
        const labels = { agent: a.agent, account: a.account, window };
        g.cost.set(labels, t.costUsd);
        g.turns.set(labels, t.turns);
        g.runs.set(labels, t.runs);
        g.tokens.set(labels, t.tokens);
        g.usageLimited.set(labels, t.usageLimited);
        g.sessionExpiries.set(labels, t.sessionExpired);
      }
    }
    for (const b of snapshot.usage.budgets) {
      const f = b.forecast;
      g.budget.set({ account: b.account, window: b.window }, b.usd);
      g.budgetSpent.set({ account: b.account }, f.spentUsd);
      g.budgetRatio.set({ account: b.account }, f.usedRatio);
      g.budgetRate.set({ account: b.account }, f.rateUsdPerHour);
      if (f.reachAt !== null) g.budgetEta.set({ account: b.account }, Math.max(0, (f.reachAt - now) / 1000));
      g.budgetLevel.set({ account: b.account }, LEVEL[f.level]);
    }
    this.updatePullRequests(snapshot);
  }

  private updatePullRequests(snapshot: ClusterSnapshot): void {
    const g = this.g;
    for (const f of snapshot.pullRequests) {
      const labels = { outcome: f.outcome, specialty: f.specialty, agent: f.agent, account: f.account };
      g.pullRequests.inc(labels);
      g.pullRequestCost.inc(labels, f.costUsd);
    }
    const report = pullRequestReport(snapshot.pullRequests);
    const set = (labels: Partial<Record<"specialty" | "agent" | "account", string>>, figures: PullRequestFigures) => {
      if (figures.mergeRate !== null) g.mergeRate.set(labels, figures.mergeRate);
      if (figures.costPerMergedUsd !== null) g.costPerMerged.set(labels, figures.costPerMergedUsd);
      if (figures.timeToMergeP50Ms !== null) g.timeToMerge.set({ ...labels, stat: "p50" }, figures.timeToMergeP50Ms / 1000);
      if (figures.timeToMergeMeanMs !== null) g.timeToMerge.set({ ...labels, stat: "mean" }, figures.timeToMergeMeanMs / 1000);
    };
    if (report.total.ciFixRunsPerMerged !== null) g.fixRunsPerMerged.set({ kind: "ci" }, report.total.ciFixRunsPerMerged);
    if (report.total.conflictRunsPerMerged !== null) g.fixRunsPerMerged.set({ kind: "conflict" }, report.total.conflictRunsPerMerged);
    if (report.total.mergedWithoutHumanCommitShare !== null) g.mergedWithoutHumanCommit.set(report.total.mergedWithoutHumanCommitShare);
    for (const { specialty, ...figures } of report.specialties) set({ specialty }, figures);
    for (const { agent, ...figures } of report.agents) set({ agent }, figures);
    for (const { account, ...figures } of report.accounts) set({ account }, figures);
  }
}
