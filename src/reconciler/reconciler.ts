import { randomUUID } from "node:crypto";
import type { RedisClient } from "../shared/redis-client.js";
import type { AgentInfo, AgentRegistry } from "../store/agent-registry.js";
import { SessionStates } from "../store/session-states.js";
import { ClusterControl } from "../store/cluster-control.js";
import { TASK_ATTEMPTS, type TaskQueues } from "../queue/task-queues.js";
import type { TaskRecord } from "../queue/task-record.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../queue/event-queue.js";
import { EVENTS_QUEUE } from "../queue/reporter-event.js";
import { readSessionIssue } from "../store/session-issues.js";
import { silentLogger, type Logger } from "../shared/logger.js";
import { checkBlockedTasks, type BlockedTaskHooks } from "./check-blocked-tasks.js";
import { describeBlocker } from "./describe-blocker.js";
import { liveTaskPage, RECONCILE_PAGE_SIZE } from "./live-task-page.js";
import { readTaskViews, type TaskView } from "./task-view.js";
import { judgeQueuedTask, judgeRunningTask, type JobView } from "./judge-running-task.js";

export interface ReconcilerOptions {
  redis: RedisClient;
  prefix: string;
  store: TaskStore;
  queues: TaskQueues;
  events: EventQueue;
  registry: AgentRegistry;
  /** @defaultValue silentLogger */
  log?: Logger;
  /** How often live tasks are checked. @defaultValue 5000 */
  intervalMs?: number;
  /**
   * Ids of the recent-tasks index looked at per pass, oldest first, the next pass going on from
   * there: a pass reads at most this many records, however long the backlog. @defaultValue 2000
   */
  pageSize?: number;
  /** @defaultValue Date.now */
  now?: () => number;
  /** What the app does with blocked tasks (src/app/check-dependencies.ts). @defaultValue none: blocked tasks are left as they are */
  blocked?: BlockedTaskHooks;
}

/** The app claims a task's record before it adds the job (after reading the issue's comments). */
const QUEUED_GRACE_MS = 120_000;

/** Tasks a pass holds at once. */
const RECORD_CHUNK = 100;

/** Queues the agents read are `tasks-<specialty>`; others (the actions queue) have their own dispatcher. */
const AGENT_QUEUE = /^tasks-(.+)$/;

/**
 * The app-side safety net for tasks over real time. Every few seconds (one replica at a time)
 * it looks at each live task of a page of the recent-tasks index (`pageSize` ids, all of them
 * while the index is shorter; a longer backlog is gone through a page per pass) and:
 * - fails or requeues a `running` task that no live job stands behind (its job vanished, failed
 *   by stalling, or went back to the queue while the record still says running);
 * - says on a queued or waiting task why no agent can take it now and who can unblock it;
 * - has a session-timeout issue opened in that task's repository for an agent whose login
 *   expired with nowhere to report it;
 * - checks blocked tasks' blockers again, at a bounded rate, in case a close event was missed.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  /** Read once per pass, when a pushed task looks unreported. */
  private pendingPushes: Set<string> | undefined;
  private ticking: Promise<void> | undefined;
  /** Where the next pass's page of the recent-tasks index starts. */
  private cursor = 0;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly control: ClusterControl;
  private readonly sessions: SessionStates;

  constructor(private readonly options: ReconcilerOptions) {
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.control = new ClusterControl(options.redis, options.prefix);
    this.sessions = new SessionStates(options.redis, options.prefix);
  }

  start(): void {
    if (this.timer) return;
    const interval = this.options.intervalMs ?? 5_000;
    this.timer = setInterval(() => void this.tickOnce(), interval);
    void this.tickOnce();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One pass, unless another replica (or the previous pass) is on it. */
  private async tickOnce(): Promise<void> {
    if (this.ticking) return;
    this.ticking = this.tick()
      .catch((error: Error) => this.log.warn({ err: error }, "reconciler pass failed; live tasks are checked again at the next pass"))
      .finally(() => (this.ticking = undefined));
    await this.ticking;
  }

  async tick(): Promise<void> {
    const { redis, prefix } = this.options;
    const lockKey = `${prefix}:lock:reconciler`;
    const token = randomUUID();
    const lockMs = Math.max(2_000, this.options.intervalMs ?? 5_000);
    if ((await redis.set(lockKey, token, "PX", lockMs, "NX")) !== "OK") return;
    const started = this.now();
    let read = 0;
    try {
      this.pendingPushes = undefined;
      const ids = await this.livePage();
      if (ids.length === 0) return;
      const [agents, control] = await Promise.all([this.options.registry.list(), this.control.get()]);
      const sessionIssues = await this.sessionIssues(agents);
      const reported = new Set(sessionIssues.keys());
      const blocked: TaskRecord[] = [];
      // A few tasks at a time, each chunk handled before the next is read: a pass holds
      // RECORD_CHUNK tasks, not its page's. A queued or waiting task is judged from a few of
      // its fields (`TaskView`); running and blocked ones, which need more, are read in full.
      for (let i = 0; i < ids.length; i += RECORD_CHUNK) {
        const views = await readTaskViews(this.options.redis, this.options.store, ids.slice(i, i + RECORD_CHUNK));
        read += views.length;
        for (const view of views) {
          // No job yet, in either mode: its blockers decide, not the queues.
          if (view.state === "blocked") {
            const task = await this.options.store.get(view.taskId);
            if (task?.state === "blocked") blocked.push(task);
            continue;
          }
          const match = AGENT_QUEUE.exec(view.queue);
          if (!match) continue;
          if (view.state === "running") {
            const task = await this.options.store.get(view.taskId);
            if (task?.state === "running") await this.checkRunning(task, agents);
            continue;
          }
          if (!(await this.checkQueued(view))) continue;
          await this.explain(
            view,
            describeBlocker({ specialty: match[1]!, repo: `${view.owner}/${view.repo}`, control, agents, sessionIssues, priority: view.priority }),
          );
          await this.reportExpiredLogins(view, match[1]!, agents, reported);
        }
      }
      if (this.options.blocked) await checkBlockedTasks(blocked, this.options.blocked, this.now(), this.log);
    } finally {
      await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lockKey, token);
      // `read`: live tasks read in this pass; the backlog bench reads these lines.
      this.log.debug({ durationMs: this.now() - started, read }, "reconciler pass");
    }
  }

  /**
   * Every running task (a dead agent's is found at the next pass, whatever the backlog), then
   * the live tasks in the next page of the recent-tasks index (finished ones skipped cheaply).
   */
  private async livePage(): Promise<string[]> {
    const { redis, prefix, store } = this.options;
    const [running, page] = await Promise.all([
      store.runningIds(),
      liveTaskPage(redis, store, prefix, this.cursor, this.options.pageSize ?? RECONCILE_PAGE_SIZE),
    ]);
    this.cursor = page.next;
    return [...new Set([...running, ...page.ids])];
  }

  private async sessionIssues(agents: AgentInfo[]): Promise<Map<string, string>> {
    const issues = new Map<string, string>();
    for (const agent of agents) {
      if (agent.state !== "session-expired") continue;
      const issue = await readSessionIssue(this.options.redis, this.options.prefix, agent.name);
      if (issue?.open) issues.set(agent.name, `${issue.owner}/${issue.repo}#${issue.number}`);
    }
    return issues;
  }

  private async jobView(task: Pick<TaskView, "queue" | "jobId">): Promise<JobView | undefined> {
    const job = await this.options.queues.queue(task.queue).getJob(task.jobId);
    return job
      ? {
          state: await job.getState(),
          attemptsMade: job.attemptsMade,
          failedReason: job.failedReason,
          returnValue: job.returnvalue as unknown,
          finishedOn: job.finishedOn,
        }
      : undefined;
  }

  /** A queued or waiting task must have a job an agent can take; false when it was failed here. */
  private async checkQueued(task: TaskView): Promise<boolean> {
    if (this.now() - task.queuedAt < QUEUED_GRACE_MS) return true;
    // One small script per task: the job itself (its signed data) is loaded only when it ended or is missing.
    const state = await this.options.queues.queue(task.queue).getJobState(task.jobId);
    const view = state === "failed" || state === "completed" || state === "unknown" ? await this.jobView(task) : { state, attemptsMade: 0 };
    const verdict = judgeQueuedTask(view);
    if (verdict.kind === "ok") return true;
    // A released blocked task whose job never reached its queue still has its held job.
    if (!view && this.options.blocked) {
      const record = await this.options.store.get(task.taskId);
      if (record && (await this.options.blocked.requeue(record))) return true;
    }
    await this.fail(task, verdict.message);
    return false;
  }

  private async fail(task: TaskView, message: string): Promise<void> {
    const patch = { state: "failed" as const, progress: null, blockedBy: null, finishedAt: this.now(), failure: { kind: "crash" as const, message } };
    if (await this.options.store.update(task.taskId, patch, [task.state], { version: task.version })) {
      this.log.error({ taskId: task.taskId, agent: task.agent }, message);
      await this.options.events.emit({ type: "task-changed", taskId: task.taskId });
    }
  }

  /** A running task must have its job active (or pushed and awaiting its PR). */
  private async checkRunning(task: TaskRecord, agents: AgentInfo[]): Promise<void> {
    const view = await this.jobView(task);
    const agentAlive = task.agent !== undefined && agents.some((a) => a.name === task.agent);
    const verdict = judgeRunningTask({ task, job: view, agentAlive, maxAttempts: TASK_ATTEMPTS, now: this.now() });
    const where = { version: task.version };
    switch (verdict.kind) {
      case "ok":
        return this.explain(task, undefined);
      case "agent-silent":
        return this.explain(task, verdict.message);
      case "pushed-unreported":
        return this.reportPushAgain(task);
      case "requeued":
        if (
          await this.options.store.update(
            task.taskId,
            { state: "queued", agent: null, progress: null, blockedBy: null, failure: { kind: "crash", message: verdict.message } },
            ["running"],
            where,
          )
        ) {
          this.log.warn({ taskId: task.taskId, agent: task.agent }, verdict.message);
          await this.options.events.emit({ type: "task-changed", taskId: task.taskId });
        }
        return;
      case "failed":
        return this.fail(task, verdict.message);
    }
  }

  /**
   * The reporter ends a pushed task when it has opened the PR; its `pushed` event waits out any
   * GitHub outage. If no such event is left (it failed on a non-GitHub error, or Redis lost it),
   * one is emitted again, at most every ten minutes: opening the PR is idempotent.
   */
  private async reportPushAgain(task: TaskRecord): Promise<void> {
    this.pendingPushes ??= await this.pendingPushedTasks();
    if (this.pendingPushes.has(task.taskId)) return;
    const bucket = Math.floor(this.now() / 600_000);
    this.log.warn({ taskId: task.taskId }, "pushed task has no pending pushed event; reporting the push again");
    await this.options.events.emit({ type: "pushed", taskId: task.taskId, run: task.run }, { jobId: `repushed-${task.taskId}@${task.run}-${bucket}` });
  }

  /** Task ids with a `pushed` event the reporter has yet to handle. */
  private async pendingPushedTasks(): Promise<Set<string>> {
    const jobs = await this.options.queues.queue(EVENTS_QUEUE).getJobs(["waiting", "prioritized", "delayed", "active"]);
    return new Set(jobs.filter((j) => (j.data as { type?: string }).type === "pushed").map((j) => String((j.data as { taskId?: string }).taskId)));
  }

  /** Writes why the task cannot be taken (or clears it), re-rendering the comment only on change. */
  private async explain(task: TaskView, blockedBy: string | undefined): Promise<void> {
    if ((task.blockedBy ?? undefined) === blockedBy) return;
    const changed = await this.options.store.update(task.taskId, { blockedBy: blockedBy ?? null }, [task.state], { version: task.version });
    if (changed) await this.options.events.emit({ type: "task-changed", taskId: task.taskId });
  }

  /**
   * An agent whose login expired before it had a task (at start, with no CCC_OPS_REPO) had no
   * repository to report in: the first task that waits for it brings one.
   */
  private async reportExpiredLogins(task: TaskView, specialty: string, agents: AgentInfo[], reported: Set<string>): Promise<void> {
    for (const agent of agents) {
      if (agent.state !== "session-expired" || reported.has(agent.name)) continue;
      if (specialty !== "general" && !agent.specialties.includes(specialty)) continue;
      const session = await this.sessions.get(agent.name);
      if (session?.state !== "expired") continue;
      // One event per expiry: the reporter opens the issue (or finds it open) once.
      await this.options.events.emit(
        {
          type: "session-expired",
          agent: agent.name,
          host: agent.host,
          account: agent.account,
          message: session.message ?? "the Claude login stopped working",
          at: session.at,
          repo: { owner: task.owner, repo: task.repo, installationId: task.installationId },
        },
        { jobId: `session-expired-${agent.name}-${session.at}` },
      );
      reported.add(agent.name);
    }
  }
}
