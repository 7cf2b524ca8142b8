import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { UnrecoverableError, WaitingError, type Job } from "bullmq";
import { duplicateClient, type RedisClient } from "../shared/redis-client.js";
import { runClaude as realRunClaude } from "../claude/run-claude.js";
import { runTestCommand } from "./run-test-command.js";
import type { AgentOptions } from "../config/agent-options.js";
import { ClusterControl, type ClusterMode } from "../store/cluster-control.js";
import { subscribeControl, type ControlMessage } from "../store/control-channel.js";
import { UsageStore } from "../store/usage-store.js";
import { TaskSecretMissingError, taskQueueName } from "../queue/task-queues.js";
import type { TaskSecrets } from "../config/task-secret.js";
import { TaskStore } from "../queue/task-store.js";
import { EventQueue } from "../queue/event-queue.js";
import { readSessionIssue } from "../store/session-issues.js";
import { silentLogger, type Logger } from "../shared/logger.js";
import { GENERAL } from "../shared/specialty.js";
import { GitError } from "../workspace/errors.js";
import { Workspace } from "../workspace/workspace.js";
import { KeptWorktrees } from "../workspace/kept-worktrees.js";
import { join } from "node:path";
import { AccountLimit } from "./account-limit.js";
import { AccountPauses } from "../store/account-pauses.js";
import { BudgetGates } from "../store/budget-gates.js";
import { BudgetWatch } from "./budget-watch.js";
import { LoginState } from "./login-state.js";
import { NameClaim } from "./name-claim.js";
import { processTask } from "./process-task.js";
import { SessionKeeper } from "./session-keeper.js";
import { probeLogin } from "./probe-login.js";
import { AgentRegistry } from "../store/agent-registry.js";
import { SessionStates } from "../store/session-states.js";
import type { AbortReason, TaskContext } from "./task-context.js";
import { isJobControl, recordUnexpectedError } from "./unexpected-error.js";
import { verifyJob } from "../queue/verify-job.js";
import { workGate, type GateState } from "./work-gate.js";
import { FetchLoop } from "./fetch-loop.js";
import { RepoFilter } from "./repo-filter.js";
import { startTaskWorkers, type TaskWorker } from "./task-worker.js";
import { agentConnectionName } from "./agent-connection-name.js";

export interface AgentDeps {
  redis: RedisClient;
  log?: Logger;
  runClaude?: TaskContext["runClaude"];
  /**
   * Runs a fetched, verified task. The real one prepares a worktree, runs Claude and pushes;
   * bench/scale.ts puts one that claims and finishes at once, to run a thousand agents' protocol.
   * @defaultValue processTask
   */
  processTask?: typeof processTask;
  now?: () => number;
  /** @defaultValue 2000 */
  progressIntervalMs?: number;
  /** Wait after a usage-limit reset before working again; reset times are rounded. @defaultValue 60000 */
  usageResetMarginMs?: number;
  /** BullMQ lock; renewed while this process lives, so a dead agent's task is retaken after it. @defaultValue 30000 */
  lockDurationMs?: number;
  /** Longest an idle agent waits before looking at its queues again, if no queue marker woke it. @defaultValue 60000 */
  idlePollMs?: number;
  /** `CCC_TASK_SECRET`: a job no key of it signed is refused. Without it the constructor throws. */
  taskSecrets?: TaskSecrets;
}

const VERSION = "0.1.0";
/** How often an idle agent looks for kept worktrees whose task ended elsewhere. */
const KEPT_SWEEP_MS = 10 * 60_000;
/** How often an agent running tasks re-reads what the control channel announces (a cancel among them). */
const RESYNC_MS = 2_000;
/**
 * How often an idle agent does: a message can only be missed while its subscriber reconnects,
 * which re-reads at once, and the budget gate (announced too) is read again before any fetch.
 */
const IDLE_RESYNC_MS = 60_000;

/**
 * An agent daemon: one fetch loop over its specialties' queues and `general` (most urgent,
 * then oldest first) sharing one budget of running tasks, a heartbeat, and obedience to the
 * cluster's switch, its account's usage limit and budget, and its own Claude login. `stop()`
 * puts running tasks back on their queues.
 */
export class Agent {
  private readonly workers: TaskWorker[] = [];
  private fetcher: FetchLoop | undefined;
  /** Running tasks by task id: the abort switch and the BullMQ job id it holds the lock of. */
  private readonly running = new Map<string, { controller: AbortController; jobId: string }>();
  private readonly ctx: TaskContext;
  private readonly registry: AgentRegistry;
  private readonly nameClaim: NameClaim;
  private readonly pauses: AccountPauses;
  private readonly control: ClusterControl;
  private readonly subscriber: RedisClient;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly limit: AccountLimit;
  private readonly login: LoginState;
  private readonly budget: BudgetWatch;
  private mode: ClusterMode = "running";
  private stopping = false;
  private gate: GateState = { canTake: false, open: false, state: "checking-login" };
  private readonly repoFilter: RepoFilter;
  private readonly secrets: TaskSecrets;

  constructor(
    private readonly options: AgentOptions,
    private readonly deps: AgentDeps,
  ) {
    if (!deps.taskSecrets) throw new TaskSecretMissingError();
    this.secrets = deps.taskSecrets;
    this.log = (deps.log ?? silentLogger).child({ agent: options.name });
    this.now = deps.now ?? Date.now;
    this.startedAt = this.now();
    this.repoFilter = new RepoFilter(options.repos, this.log);
    const prefix = options.CCC_PREFIX;
    this.registry = new AgentRegistry(deps.redis, prefix);
    this.nameClaim = new NameClaim({ redis: deps.redis, prefix, name: options.name, ttlMs: options.heartbeatTtlSeconds * 1000 });
    this.pauses = new AccountPauses(deps.redis, prefix);
    this.control = new ClusterControl(deps.redis, prefix);
    this.subscriber = duplicateClient(deps.redis, `${agentConnectionName(options.name)}:control`);
    const events = new EventQueue({ connection: deps.redis, prefix });
    const runClaude = deps.runClaude ?? realRunClaude;
    const probe = () => probeLogin(runClaude, { bin: options.claudeBin, cwd: options.workdir, log: this.log });
    const onChange = () => this.applyGate();
    this.limit = new AccountLimit({
      pauses: this.pauses,
      account: options.account,
      agent: options.name,
      marginMs: deps.usageResetMarginMs ?? 60_000,
      now: this.now,
      log: this.log,
      probe,
      onChange,
    });
    this.budget = new BudgetWatch({ gates: new BudgetGates(deps.redis, prefix), account: options.account, now: this.now, log: this.log });
    this.login = new LoginState({
      sessions: new SessionStates(deps.redis, prefix),
      events,
      agent: options.name,
      host: hostname(),
      account: options.account,
      now: this.now,
      log: this.log,
      probe,
      readIssue: () => readSessionIssue(deps.redis, prefix, options.name),
      onChange,
    });
    const store = new TaskStore(deps.redis, prefix);
    const workspace = new Workspace({ root: options.workdir, log: this.log });
    this.ctx = {
      options,
      store,
      events,
      workspace,
      sessions: new SessionKeeper({
        kept: new KeptWorktrees(join(options.workdir, "kept-worktrees.json")),
        workspace,
        store,
        agent: options.name,
        limitBytes: options.keepWorktreesMb * 2 ** 20,
        log: this.log,
        now: this.now,
      }),
      usage: new UsageStore(deps.redis, prefix),
      log: this.log,
      runClaude,
      runTestCommand,
      now: this.now,
      progressIntervalMs: deps.progressIntervalMs ?? 2_000,
      onUsageLimit: (failure) => this.limit.hit(failure),
      onSessionExpired: (failure, task) => this.login.expired(failure.message, task),
      onRunCompleted: () => this.pauses.clear(options.account),
    };
  }

  /** Queues this agent takes work from, its own specialties before `general`. */
  get queueNames(): string[] {
    return [...this.options.specialties.filter((s) => s !== GENERAL), GENERAL].map(taskQueueName);
  }

  get state(): GateState["state"] {
    return this.gate.state;
  }

  async start(): Promise<void> {
    // Before anything else: a second live process with this name is refused (AgentNameTakenError).
    await this.nameClaim.claim();
    await mkdir(this.options.workdir, { recursive: true });
    // Worktrees kept for tasks that ended while this agent was away, or over a lowered limit.
    await this.sweepKept();
    await subscribeControl(this.subscriber, this.options.CCC_PREFIX, this.log, (message) => this.onControl(message));
    // Pub/sub drops what is published while the subscriber is away: re-read the state once it is back.
    this.subscriber.on("ready", () => void this.resync().catch(() => {}));
    this.mode = (await this.control.get()).mode;
    this.limit.apply(await this.pauses.get(this.options.account));
    await this.budget.refresh();
    this.workers.push(
      ...(await startTaskWorkers(this.queueNames, {
        connection: this.deps.redis,
        prefix: this.options.CCC_PREFIX,
        lockDurationMs: this.deps.lockDurationMs ?? 30_000,
        log: this.log,
        process: (job, token) => this.process(job, token),
        // The job is someone else's now. Stop the stale run; it changes nothing (processTask checks its lease).
        onLocksLost: (jobIds) => {
          for (const [taskId, run] of this.running) {
            if (!jobIds.includes(run.jobId)) continue;
            this.log.warn({ taskId, jobId: run.jobId }, "lost the task's lock (this machine slept or lost Redis): abandoning the stale run");
            run.controller.abort("lost" satisfies AbortReason);
          }
        },
      })),
    );
    this.fetcher = new FetchLoop({
      redis: this.deps.redis,
      workers: this.workers,
      capacity: () => (this.gate.open ? this.options.concurrency : 0),
      // An account on course to overspend its budget keeps what is left for urgent and high tasks.
      admits: (priority) => this.budget.admits(priority),
      // The gate as stored, once work waits: a message this agent missed cannot let a task through.
      refresh: () => this.refreshBudget(),
      log: this.log,
      connectionName: `${agentConnectionName(this.options.name)}:fetch`,
      ...(this.deps.idlePollMs !== undefined ? { idlePollMs: this.deps.idlePollMs } : {}),
    });
    this.fetcher.start();
    const beat = (this.options.heartbeatTtlSeconds * 1000) / 3;
    this.timers.push(setInterval(() => void this.heartbeat().catch(() => {}), beat));
    // Pub/sub can miss a message while reconnecting; the stored state is the truth.
    let lastResync = this.now();
    this.timers.push(
      setInterval(() => {
        if (this.running.size === 0 && this.now() - lastResync < IDLE_RESYNC_MS) return;
        lastResync = this.now();
        void this.resync().catch(() => {});
      }, RESYNC_MS),
    );
    // Tasks that end elsewhere (cancelled while queued, failed by the reconciler) while this agent idles.
    this.timers.push(setInterval(() => void this.sweepKept(), KEPT_SWEEP_MS));
    await this.login.verify("start");
    this.log.info({ queues: this.queueNames, concurrency: this.options.concurrency, state: this.gate.state }, "agent started");
  }

  /** Stops taking work, puts running tasks back on their queues, and leaves the registry. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.timers.forEach(clearInterval);
    this.limit.close();
    this.applyGate();
    for (const { controller } of this.running.values()) controller.abort("shutdown" satisfies AbortReason);
    await this.fetcher?.stop();
    await Promise.all(this.workers.map((w) => w.close()));
    await this.registry.remove(this.options.name);
    await this.nameClaim.release();
    await this.subscriber.quit().catch(() => {});
    await this.ctx.events.close();
  }

  private async process(job: Job, token: string | undefined): Promise<string> {
    // Before anything else: only a task the app signed is taken at its word.
    const data = await verifyJob({ ...this.ctx, secrets: this.secrets, agent: this.options.name }, job);
    const taskId = data.taskId;
    // Fetched just as a pause began, or over the shared budget: straight back, no attempt spent.
    if (!this.gate.canTake) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    // A repository outside this agent's --repos: set aside for another agent.
    await this.repoFilter.admit(job, token, data);
    const controller = new AbortController();
    this.running.set(taskId, { controller, jobId: String(job.id) });
    this.applyGate();
    try {
      return await (this.deps.processTask ?? processTask)(this.ctx, job, token, controller.signal);
    } catch (error) {
      if (isJobControl(error)) throw error;
      await recordUnexpectedError(this.ctx, job, token, error as Error).catch((e: Error) =>
        this.log.warn({ err: e, taskId }, "could not record the run's error on the task; the reconciler will settle it"),
      );
      // BullMQ would retry; an error that says retrying cannot help ends the job now.
      if (error instanceof GitError && !error.retryable) throw new UnrecoverableError(error.message);
      throw error;
    } finally {
      this.running.delete(taskId);
      this.applyGate();
      void this.sweepKept();
    }
  }

  private async sweepKept(): Promise<void> {
    await this.ctx.sessions.sweep().catch((error: Error) => this.log.warn({ err: error }, "could not sweep the kept worktrees"));
  }

  /** Starts, pauses or resumes fetching to match the gate; aborts running work on emergency stop. */
  private applyGate(): void {
    this.gate = workGate(
      {
        mode: this.mode,
        ...(this.limit.until !== undefined ? { accountPausedUntil: this.limit.until } : {}),
        session: this.login.state,
        budget: this.budget.level,
        stopping: this.stopping,
        running: this.running.size,
        concurrency: this.options.concurrency,
      },
      this.now(),
    );
    if (this.gate.canTake) this.fetcher?.wake();
    if (this.mode === "stopped") {
      for (const { controller } of this.running.values()) controller.abort("stop" satisfies AbortReason);
    }
    void this.heartbeat().catch(() => {});
  }

  private async onControl(message: ControlMessage): Promise<void> {
    switch (message.type) {
      case "cancel":
        this.running.get(message.taskId)?.controller.abort("cancelled" satisfies AbortReason);
        return;
      case "mode":
        this.mode = message.state.mode;
        this.log.info({ mode: this.mode, by: message.state.by }, "cluster mode changed");
        return this.applyGate();
      case "account-paused":
        if (message.pause.account === this.options.account) this.limit.apply(message.pause);
        return;
      case "verify-login":
        if (message.agent === this.options.name) await this.login.verify("request");
        return;
      case "budget-gates": {
        const before = this.gateInputs();
        this.budget.apply(message.gates);
        if (this.gateInputs() !== before) this.applyGate();
        return;
      }
    }
  }

  /** Re-reads what the control channel announces: cancels, the cluster's mode, the account's pause. */
  private async resync(): Promise<void> {
    for (const [taskId, { controller }] of this.running) {
      const record = await this.ctx.store.get(taskId);
      if (record?.state === "cancelled") controller.abort("cancelled" satisfies AbortReason);
    }
    // A closed session-timeout issue whose message this agent missed while reconnecting.
    if (this.login.state === "expired") await this.login.verifyIfIssueClosed();
    const before = this.gateInputs();
    const [control, pause] = await Promise.all([this.control.get(), this.pauses.get(this.options.account)]);
    this.mode = control.mode;
    if (pause) this.limit.apply(pause);
    await this.budget.refresh();
    // A change that reached this process only through the stored state: apply it and wake the
    // fetch loop. Nothing changed: no heartbeat and no look at the queues beyond the timers'.
    if (this.gateInputs() !== before) this.applyGate();
  }

  private async refreshBudget(): Promise<void> {
    const before = this.gateInputs();
    await this.budget.refresh();
    if (this.gateInputs() !== before) this.applyGate();
  }

  /** What the gate is decided by and the heartbeat shows, beyond the running tasks. */
  private gateInputs(): string {
    return JSON.stringify([this.mode, this.limit.until, this.login.state, this.budget.info ?? null]);
  }

  private async heartbeat(): Promise<void> {
    // A stopping agent leaves the registry; a heartbeat started before (the gate's, say) must
    // not write it back after the removal.
    if (this.stopping) return;
    const renewed = await this.nameClaim.renew();
    if (this.stopping) return;
    if (!renewed) {
      // Only after this process was silent past the TTL (a suspended PC) and another took the name.
      this.log.error("another process now runs as this agent: this one is no longer listed; stop one of them");
      return;
    }
    await this.registry.heartbeat(
      {
        name: this.options.name,
        host: hostname(),
        pid: process.pid,
        account: this.options.account,
        specialties: this.options.specialties,
        concurrency: this.options.concurrency,
        state: this.gate.state,
        tasks: [...this.running.keys()],
        startedAt: this.startedAt,
        lastSeen: this.now(),
        version: VERSION,
        ...(this.limit.until !== undefined ? { pausedUntil: this.limit.until } : {}),
        session: this.login.state,
        ...(this.options.repos ? { repos: this.options.repos } : {}),
        ...(this.budget.info ? { budget: this.budget.info } : {}),
      },
      this.options.heartbeatTtlSeconds,
    );
  }
}
