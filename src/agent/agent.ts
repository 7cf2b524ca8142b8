import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { Worker, WaitingError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { ClaudeFailure } from "../claude/classify-failure.js";
import { runClaude as realRunClaude } from "../claude/run-claude.js";
import type { AgentOptions } from "../config/agent-options.js";
import { controlChannel } from "../control/cancel-task.js";
import { ClusterControl, type ClusterMode } from "../control/cluster-control.js";
import { UsageStore } from "../ops/usage-store.js";
import type { TaskData } from "../queue/task-data.js";
import { taskQueueName } from "../queue/task-queues.js";
import { TaskStore } from "../queue/task-store.js";
import { EventQueue } from "../reporter/event-queue.js";
import { silentLogger, type Logger } from "../shared/logger.js";
import { GENERAL } from "../shared/specialty.js";
import { Workspace } from "../workspace/workspace.js";
import { AccountPauses, type AccountPause } from "./account-pause.js";
import { parseControlMessage } from "./control-message.js";
import { processTask } from "./process-task.js";
import { probeLogin } from "./probe-login.js";
import { AgentRegistry } from "./registry.js";
import { SessionStates } from "./session-state.js";
import type { AbortReason, TaskContext } from "./task-context.js";
import { isJobControl, recordUnexpectedError } from "./unexpected-error.js";
import { workGate, type GateState } from "./work-gate.js";

export interface AgentDeps {
  redis: Redis;
  log?: Logger;
  runClaude?: TaskContext["runClaude"];
  now?: () => number;
  /** @defaultValue 2000 */
  progressIntervalMs?: number;
  /** Wait after a usage-limit reset before working again; reset times are rounded. @defaultValue 60000 */
  usageResetMarginMs?: number;
  /** BullMQ lock; renewed while this process lives, so a dead agent's task is retaken after it. @defaultValue 60000 */
  lockDurationMs?: number;
}

const VERSION = "0.1.0";

/**
 * An agent daemon: BullMQ workers on its specialties' queues and `general` sharing one budget
 * of running tasks, a heartbeat, and obedience to the cluster's switch, its account's usage
 * limit and its own Claude login. `stop()` puts running tasks back on their queues.
 */
export class Agent {
  private readonly workers: Worker[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly ctx: TaskContext;
  private readonly registry: AgentRegistry;
  private readonly pauses: AccountPauses;
  private readonly sessions: SessionStates;
  private readonly control: ClusterControl;
  private readonly subscriber: Redis;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private accountTimer: NodeJS.Timeout | undefined;
  private mode: ClusterMode = "running";
  private accountPause: AccountPause | undefined;
  private session: { state: "ok" | "expired" | "checking"; message?: string } = { state: "checking" };
  private stopping = false;
  private gate: GateState = { canTake: false, state: "checking-login" };

  constructor(
    private readonly options: AgentOptions,
    private readonly deps: AgentDeps,
  ) {
    this.log = (deps.log ?? silentLogger).child({ agent: options.name });
    this.now = deps.now ?? Date.now;
    this.startedAt = this.now();
    const prefix = options.CCC_PREFIX;
    this.registry = new AgentRegistry(deps.redis, prefix);
    this.pauses = new AccountPauses(deps.redis, prefix);
    this.sessions = new SessionStates(deps.redis, prefix);
    this.control = new ClusterControl(deps.redis, prefix);
    this.subscriber = deps.redis.duplicate();
    this.ctx = {
      options,
      store: new TaskStore(deps.redis, prefix),
      events: new EventQueue({ connection: deps.redis, prefix }),
      workspace: new Workspace({ root: options.workdir, log: this.log }),
      usage: new UsageStore(deps.redis, prefix),
      log: this.log,
      runClaude: deps.runClaude ?? realRunClaude,
      now: this.now,
      progressIntervalMs: deps.progressIntervalMs ?? 2_000,
      onUsageLimit: (failure) => this.usageLimitHit(failure),
      onSessionExpired: (failure, task) => this.sessionExpired(failure.message, task),
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
    await mkdir(this.options.workdir, { recursive: true });
    await this.subscriber.subscribe(controlChannel(this.options.CCC_PREFIX));
    this.subscriber.on("message", (_channel, raw) => void this.onControl(raw).catch((e: Error) => this.log.warn({ err: e }, "control message failed")));
    this.mode = (await this.control.get()).mode;
    this.setAccountPause(await this.pauses.get(this.options.account));
    for (const name of this.queueNames) {
      const worker = new Worker(name, (job, token) => this.process(job, token), {
        connection: this.deps.redis,
        prefix: this.options.CCC_PREFIX,
        concurrency: this.options.concurrency,
        autorun: false,
        lockDuration: this.deps.lockDurationMs ?? 60_000,
        stalledInterval: this.deps.lockDurationMs ?? 60_000,
      });
      worker.on("error", (error) => this.log.warn({ err: error, queue: name }, "worker error"));
      this.workers.push(worker);
    }
    const beat = (this.options.heartbeatTtlSeconds * 1000) / 3;
    this.timers.push(setInterval(() => void this.heartbeat().catch(() => {}), beat));
    // Pub/sub can miss a message while reconnecting; the stored state is the truth.
    this.timers.push(setInterval(() => void this.resync().catch(() => {}), 2_000));
    await this.verifyLogin("start");
    this.log.info({ queues: this.queueNames, concurrency: this.options.concurrency, state: this.gate.state }, "agent started");
  }

  /** Stops taking work, puts running tasks back on their queues, and leaves the registry. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.timers.forEach(clearInterval);
    clearTimeout(this.accountTimer);
    this.applyGate();
    for (const controller of this.running.values()) controller.abort("shutdown" satisfies AbortReason);
    await Promise.all(this.workers.map((w) => w.close()));
    await this.registry.remove(this.options.name);
    await this.subscriber.quit().catch(() => {});
    await this.ctx.events.close();
  }

  private async process(job: Job, token: string | undefined): Promise<string> {
    const taskId = String((job.data as { taskId?: unknown }).taskId ?? job.id);
    // Fetched just as a pause began, or over the shared budget: straight back, no attempt spent.
    if (!this.gate.canTake) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const controller = new AbortController();
    this.running.set(taskId, controller);
    this.applyGate();
    try {
      return await processTask(this.ctx, job, token, controller.signal);
    } catch (error) {
      if (!isJobControl(error)) await recordUnexpectedError(this.ctx, job, error as Error).catch(() => {});
      throw error;
    } finally {
      this.running.delete(taskId);
      this.applyGate();
    }
  }

  /** Starts, pauses or resumes fetching to match the gate; aborts running work on emergency stop. */
  private applyGate(): void {
    this.gate = workGate(
      {
        mode: this.mode,
        ...(this.accountPause ? { accountPausedUntil: this.accountPause.until } : {}),
        session: this.session.state,
        stopping: this.stopping,
        running: this.running.size,
        concurrency: this.options.concurrency,
      },
      this.now(),
    );
    for (const worker of this.workers) {
      if (this.gate.canTake) {
        if (!worker.isRunning()) void worker.run().catch((e: Error) => this.log.error({ err: e }, "worker stopped"));
        else if (worker.isPaused()) worker.resume();
      } else if (worker.isRunning() && !worker.isPaused()) {
        void worker.pause(true);
      }
    }
    if (this.mode === "stopped") {
      for (const controller of this.running.values()) controller.abort("stop" satisfies AbortReason);
    }
    void this.heartbeat().catch(() => {});
  }

  private async onControl(raw: string): Promise<void> {
    const message = parseControlMessage(raw);
    if (!message) return;
    switch (message.type) {
      case "cancel":
        this.running.get(message.taskId)?.abort("cancelled" satisfies AbortReason);
        return;
      case "mode":
        this.mode = message.state.mode;
        this.log.info({ mode: this.mode, by: message.state.by }, "cluster mode changed");
        return this.applyGate();
      case "account-paused":
        if (message.pause.account === this.options.account) this.setAccountPause(message.pause);
        return;
      case "verify-login":
        if (message.agent === this.options.name) await this.verifyLogin("request");
        return;
    }
  }

  private async usageLimitHit(failure: ClaudeFailure): Promise<number> {
    const pause = await this.pauses.pause({
      account: this.options.account,
      agent: this.options.name,
      message: failure.message,
      ...(failure.resetAt !== undefined ? { resetAt: failure.resetAt } : {}),
      now: this.now(),
    });
    this.setAccountPause(pause);
    return pause.until;
  }

  /** Pauses until the reset plus a margin; a guessed reset is probed before work resumes. */
  private setAccountPause(pause: AccountPause | undefined): void {
    clearTimeout(this.accountTimer);
    if (!pause || pause.until <= this.now() - (this.deps.usageResetMarginMs ?? 60_000)) {
      this.accountPause = undefined;
      return this.applyGate();
    }
    const resumeAt = pause.until + (this.deps.usageResetMarginMs ?? 60_000);
    this.accountPause = { ...pause, until: resumeAt };
    this.log.warn({ account: pause.account, until: new Date(pause.until).toISOString(), by: pause.agent }, "usage limit: account paused");
    this.accountTimer = setTimeout(() => void this.accountPauseEnded(pause).catch(() => {}), Math.max(0, resumeAt - this.now()));
    this.applyGate();
  }

  private async accountPauseEnded(pause: AccountPause): Promise<void> {
    if (pause.guessed) {
      const probe = await probeLogin(this.ctx.runClaude, { bin: this.options.claudeBin, cwd: this.options.workdir, log: this.log });
      if (probe.ok && probe.usageLimit) {
        await this.usageLimitHit(probe.usageLimit);
        return;
      }
    }
    this.accountPause = undefined;
    this.log.info({ account: pause.account }, "usage limit over: taking work again");
    this.applyGate();
  }

  private async sessionExpired(message: string, task?: TaskData): Promise<void> {
    this.session = { state: "expired", message };
    await this.sessions.set(this.options.name, { state: "expired", message, at: this.now() });
    this.log.error({ message }, `Claude session expired: run \`claude /login\` on ${hostname()} as this agent's user, then close the session-timeout issue`);
    await this.ctx.events.emit({
      type: "session-expired",
      agent: this.options.name,
      host: hostname(),
      account: this.options.account,
      message,
      at: this.now(),
      ...(task ? { repo: { owner: task.repo.owner, repo: task.repo.name, installationId: task.installationId } } : {}),
    });
    this.applyGate();
  }

  /** At start, and when asked: checks the login with a cheap probe and resumes or stays parked. */
  private async verifyLogin(why: "start" | "request"): Promise<void> {
    const wasExpired = this.session.state === "expired";
    this.session = { state: "checking" };
    this.applyGate();
    await this.sessions.set(this.options.name, { state: "checking", at: this.now() });
    const probe = await probeLogin(this.ctx.runClaude, { bin: this.options.claudeBin, cwd: this.options.workdir, log: this.log });
    if (!probe.ok) {
      await this.sessionExpired(probe.failure.message);
      if (why === "request") await this.ctx.events.emit({ type: "session-verified", agent: this.options.name, ok: false, message: probe.failure.message, at: this.now() });
      return;
    }
    this.session = { state: "ok" };
    await this.sessions.set(this.options.name, { state: "ok", at: this.now() });
    if (why === "request" || wasExpired) {
      this.log.info("Claude login verified: resuming");
      await this.ctx.events.emit({ type: "session-verified", agent: this.options.name, ok: true, at: this.now() });
    }
    this.applyGate();
  }

  /** Re-reads what the control channel announces: cancels, the cluster's mode, the account's pause. */
  private async resync(): Promise<void> {
    for (const [taskId, controller] of this.running) {
      const record = await this.ctx.store.get(taskId);
      if (record?.state === "cancelled") controller.abort("cancelled" satisfies AbortReason);
    }
    const [control, pause] = await Promise.all([this.control.get(), this.pauses.get(this.options.account)]);
    if (control.mode !== this.mode) {
      this.mode = control.mode;
      this.applyGate();
    }
    if (pause && pause.until > (this.accountPause?.until ?? 0) - (this.deps.usageResetMarginMs ?? 60_000)) {
      if (!this.accountPause || this.accountPause.until !== pause.until + (this.deps.usageResetMarginMs ?? 60_000)) this.setAccountPause(pause);
    }
  }

  private async heartbeat(): Promise<void> {
    await this.registry.heartbeat(
      {
        name: this.options.name,
        host: hostname(),
        account: this.options.account,
        specialties: this.options.specialties,
        concurrency: this.options.concurrency,
        state: this.gate.state,
        tasks: [...this.running.keys()],
        startedAt: this.startedAt,
        lastSeen: this.now(),
        version: VERSION,
        ...(this.accountPause ? { pausedUntil: this.accountPause.until } : {}),
        session: this.session.state,
      },
      this.options.heartbeatTtlSeconds,
    );
  }
}
