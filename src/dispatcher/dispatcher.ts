import { randomUUID } from "node:crypto";
import type { Job } from "bullmq";
import { loadRepoConfig } from "../github/load-repo-config.js";
import { DEFAULT_REPO_CONFIG, type RepoConfig } from "../config/repo-config.js";
import { settleRefusedTask } from "../queue/verify-job.js";
import type { TaskData } from "../queue/task-data.js";
import type { SignedTaskData } from "../queue/task-signature.js";
import { isRetryable, rateLimitedUntil } from "../github/github-errors.js";
import type { GitHubClient } from "../github/github-client.js";
import { silentLogger, type Logger } from "../shared/logger.js";
import { LIVE_STATES } from "../shared/task-state.js";
import { ClusterControl } from "../store/cluster-control.js";
import { controlBlocker } from "../control/control-blocker.js";
import { ACTIONS_QUEUE, requeueActionsTask } from "./actions-queue.js";
import { cancelRun, cancelRuns, holdWaiting, liftHold, refusedRequeue, type HoldDeps } from "./dispatcher-holds.js";
import { newDispatchId } from "./dispatch-id.js";
import { DispatchStore, type DispatchRecord } from "../store/dispatch-store.js";
import { dispatchTraced } from "./dispatch-traced.js";
import { workflowPath } from "./dispatch-workflow.js";
import type { DispatcherOptions } from "./dispatcher-options.js";
import { RunnerPool, idleRunnersFor, requiredLabels } from "./runner-pool.js";

// Deletes the lock only if it is still ours.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface TickResult {
  dispatched: string[];
  requeued: string[];
  /** Tasks whose workflow run was cancelled: the task was cancelled, or the cluster stopped. */
  cancelled: string[];
}

/**
 * Serves tasks of repositories in `mode: actions`: takes a task off the `actions` queue only
 * while the repository has an online, idle runner labelled `self-hosted, claude, <specialty>`
 * that no earlier dispatch has been promised, starts the workflow, and re-queues a dispatch
 * whose job no runner started in time. One replica at a time ticks (a Redis lock), so a task
 * is dispatched once however many app replicas run.
 */
export class Dispatcher {
  readonly dispatches: DispatchStore;
  private readonly runners: RunnerPool;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly control: ClusterControl;
  /** Repositories warned once that their workflow lacks the `traceparent` input. */
  private readonly warnedTraceparent = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<unknown> | undefined;
  private again = false;

  constructor(private readonly options: DispatcherOptions) {
    this.dispatches = new DispatchStore(options.redis, options.prefix);
    this.runners = new RunnerPool({ redis: options.redis, prefix: options.prefix, cacheSeconds: options.runnerCacheSeconds });
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.control = new ClusterControl(options.redis, options.prefix);
  }

  private get holdDeps(): HoldDeps {
    return { ...this.options, dispatches: this.dispatches, log: this.log, now: this.now };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.pass(), this.options.intervalMs ?? 5_000);
  }

  /** A pass now rather than at the next interval (a runner's login is back); one more after a pass under way. */
  nudge(): void {
    if (!this.timer) return;
    if (this.ticking) this.again = true;
    else this.pass();
  }

  private pass(): void {
    if (this.ticking) return;
    this.ticking = this.tick()
      .catch((error: unknown) => this.log.warn({ err: error }, "dispatcher tick failed"))
      .finally(() => {
        this.ticking = undefined;
        if (this.again && this.timer) {
          this.again = false;
          this.pass();
        }
      });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One pass: re-queue overdue dispatches, then dispatch what idle runners can take. */
  async tick(): Promise<TickResult> {
    const lockKey = `${this.options.prefix}:lock:dispatcher`;
    const token = randomUUID();
    if ((await this.options.redis.set(lockKey, token, "PX", 60_000, "NX")) !== "OK") return { dispatched: [], requeued: [], cancelled: [] };
    try {
      const control = await this.control.get();
      const cancelled = await cancelRuns(this.holdDeps, control);
      const requeued = await this.requeueOverdue();
      // Paused or stopped: nothing new starts, and the waiting tasks say why (as daemon tasks do).
      const held = controlBlocker(control);
      const dispatched = held === undefined ? await this.dispatchWaiting() : await holdWaiting(this.holdDeps, held);
      return { dispatched, requeued, cancelled };
    } finally {
      await this.options.redis.eval(RELEASE, 1, lockKey, token);
    }
  }

  private async dispatchWaiting(): Promise<string[]> {
    const queue = this.options.queues.queue(ACTIONS_QUEUE);
    // Nothing consumes this queue as a BullMQ worker, so nothing promotes its delayed jobs but us.
    for (const job of await queue.getJobs(["delayed"])) {
      if (job.timestamp + job.delay <= this.now()) await job.promote().catch(() => undefined);
    }
    const jobs = (await queue.getJobs(["prioritized", "waiting"], 0, 499)).sort(
      (a, b) => (a.priority || Number.MAX_SAFE_INTEGER) - (b.priority || Number.MAX_SAFE_INTEGER) || a.timestamp - b.timestamp,
    );
    if (jobs.length === 0) return [];
    const promised = new Map<string, number>();
    for (const pending of await this.dispatches.pending()) {
      const group = groupKey(pending.owner, pending.repo, pending.specialty);
      promised.set(group, (promised.get(group) ?? 0) + 1);
    }
    const dispatched: string[] = [];
    for (const job of jobs) {
      const taskId = await this.dispatchOne(job as Job, promised);
      if (taskId) dispatched.push(taskId);
    }
    return dispatched;
  }

  /** Dispatches one queued job if a runner is free for it; returns its task id when it did. */
  private async dispatchOne(job: Job, promised: Map<string, number>): Promise<string | undefined> {
    // It becomes a workflow dispatch: only a task the app signed is taken at its word.
    const verdict = this.options.queues.verify(job);
    if (!verdict.ok) {
      this.log.error(
        { jobId: job.id, reason: verdict.reason },
        `refused an actions task job: ${verdict.reason}; it was not queued by this cluster's app as it stands`,
      );
      await settleRefusedTask({ ...this.options, log: this.log, now: this.now }, job, verdict.reason, "the dispatcher").catch((error: Error) =>
        this.log.warn({ err: error, jobId: job.id }, "could not mark the refused job's task failed; the reconciler will"),
      );
      await job.remove().catch(() => undefined);
      return undefined;
    }
    const data = verdict.task;
    const log = this.log.child({ taskId: data.taskId, run: data.run });
    const record = await this.options.store.get(data.taskId);
    if (!record || record.run !== data.run || !LIVE_STATES.includes(record.state)) {
      // Cancelled, or a stale job of an earlier run.
      await job.remove().catch(() => undefined);
      return undefined;
    }
    await liftHold(this.holdDeps, record);
    const group = groupKey(data.repo.owner, data.repo.name, data.specialty);
    const octokit = await this.options.getOctokit(data.installationId);
    let idle: number;
    try {
      idle = idleRunnersFor(await this.runners.list(octokit, data.repo.owner, data.repo.name), data.specialty).length;
    } catch (error) {
      log.warn({ err: error }, "could not list the repository's self-hosted runners (does the app have Administration: read?)");
      return undefined;
    }
    if (idle - (promised.get(group) ?? 0) <= 0) {
      log.debug({ idle, labels: requiredLabels(data.specialty) }, "no idle runner for the task yet");
      return undefined;
    }

    const config = await this.repoConfig(octokit, data);
    const target = { workflow: config.actions.workflow, ref: config.actions.ref ?? data.repo.defaultBranch };
    const id = newDispatchId();
    try {
      await dispatchTraced({ octokit, log, warned: this.warnedTraceparent }, data, target, id);
    } catch (error) {
      if (isRetryable(error) || rateLimitedUntil(error, this.now()) !== undefined) {
        log.warn({ err: error }, "workflow dispatch failed; trying again next tick");
        return undefined;
      }
      const message =
        `could not start the workflow \`${target.workflow}\` on \`${target.ref}\`: ${error instanceof Error ? error.message : String(error)}. ` +
        "Check `actions.workflow` in .github/claude-cluster.yml and that the workflow has a workflow_dispatch trigger with the cluster's inputs (docs/self-hosted-runners.md).";
      await this.options.store.update(data.taskId, { state: "failed", failure: { kind: "invalid-request", message }, finishedAt: this.now() }, LIVE_STATES, {
        run: data.run,
      });
      await this.options.events.emit({ type: "task-changed", taskId: data.taskId });
      await job.remove().catch(() => undefined);
      return undefined;
    }
    const now = this.now();
    // Kept signed as it was queued: read back from Redis to be queued again, it is checked again.
    const signed: SignedTaskData = { ...data, signature: (job.data as SignedTaskData).signature };
    const dispatch: DispatchRecord = {
      id,
      taskId: data.taskId,
      run: data.run,
      owner: data.repo.owner,
      repo: data.repo.name,
      specialty: data.specialty,
      installationId: data.installationId,
      state: "dispatched",
      dispatchedAt: now,
      deadline: now + config.actions.dispatchTimeoutMinutes * 60_000,
      attempt: await this.dispatches.countAttempt(data.taskId, data.run),
      // Its events count only from this workflow file (handle-workflow-events).
      workflowPath: workflowPath(target.workflow),
      data: signed,
    };
    await this.dispatches.save(dispatch);
    await job.remove().catch(() => undefined);
    promised.set(group, (promised.get(group) ?? 0) + 1);
    log.info({ dispatchId: id, workflow: target.workflow, ref: target.ref, attempt: dispatch.attempt }, "workflow dispatched");
    return data.taskId;
  }

  /** Dispatches whose job no runner started before the deadline go back to the queue (or fail after a few tries). */
  private async requeueOverdue(): Promise<string[]> {
    const requeued: string[] = [];
    const now = this.now();
    for (const dispatch of await this.dispatches.pending()) {
      if (dispatch.deadline > now) continue;
      await this.dispatches.save({ ...dispatch, state: "expired" });
      const log = this.log.child({ taskId: dispatch.taskId, dispatchId: dispatch.id });
      if (dispatch.runId !== undefined) await cancelRun(this.holdDeps, dispatch, log);
      const record = await this.options.store.get(dispatch.taskId);
      if (!record || record.run !== dispatch.run || !LIVE_STATES.includes(record.state)) continue;
      const max = this.options.maxDispatchAttempts ?? 3;
      if (dispatch.attempt >= max) {
        const minutes = Math.round((dispatch.deadline - dispatch.dispatchedAt) / 60_000);
        const message =
          `no self-hosted runner started the workflow within ${minutes} min, ${dispatch.attempt} times: ` +
          `check that a runner labelled ${requiredLabels(dispatch.specialty).join(", ")} is online for ${dispatch.owner}/${dispatch.repo}`;
        await this.options.store.update(dispatch.taskId, { state: "failed", failure: { kind: "timeout", message }, finishedAt: now }, LIVE_STATES, {
          run: dispatch.run,
        });
        await this.options.events.emit({ type: "task-changed", taskId: dispatch.taskId });
        log.warn({ attempts: dispatch.attempt }, "dispatch never started; task failed");
        continue;
      }
      const verdict = await requeueActionsTask(this.options.queues, dispatch);
      if (!verdict.ok) {
        await refusedRequeue(this.holdDeps, dispatch, verdict.reason, log);
        continue;
      }
      requeued.push(dispatch.taskId);
      log.warn({ attempt: dispatch.attempt }, "dispatch did not start in time; task queued again");
    }
    return requeued;
  }

  private async repoConfig(octokit: GitHubClient, data: TaskData): Promise<RepoConfig> {
    const result = await loadRepoConfig({
      octokit,
      redis: this.options.redis,
      prefix: this.options.prefix,
      cacheSeconds: this.options.configCacheSeconds ?? 60,
      owner: data.repo.owner,
      repo: data.repo.name,
    });
    // A config broken since the task was queued: dispatch with the defaults rather than strand the task.
    return result.ok ? result.config : DEFAULT_REPO_CONFIG;
  }
}

function groupKey(owner: string, repo: string, specialty: string): string {
  return `${owner}/${repo}:${specialty}`;
}
