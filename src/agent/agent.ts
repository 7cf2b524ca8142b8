import { hostname } from "node:os";
import { Worker, WaitingError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { runClaude as realRunClaude } from "../claude/run-claude.js";
import type { AgentOptions } from "../config/agent-options.js";
import { controlChannel, type ControlMessage } from "../control/cancel-task.js";
import { taskQueueName } from "../queue/task-queues.js";
import { UsageStore } from "../ops/usage-store.js";
import { TaskStore } from "../queue/task-store.js";
import { EventQueue } from "../reporter/event-queue.js";
import { silentLogger, type Logger } from "../shared/logger.js";
import { GENERAL } from "../shared/specialty.js";
import { Workspace } from "../workspace/workspace.js";
import { processTask } from "./process-task.js";
import { AgentRegistry } from "./registry.js";
import type { AbortReason, TaskContext } from "./task-context.js";
import { isJobControl, recordUnexpectedError } from "./unexpected-error.js";

export interface AgentDeps {
  redis: Redis;
  log?: Logger;
  runClaude?: TaskContext["runClaude"];
  now?: () => number;
  /** @defaultValue 2000 */
  progressIntervalMs?: number;
}

const VERSION = "0.1.0";

/**
 * An agent daemon: BullMQ workers on its specialties' queues and `general`, sharing one
 * budget of `concurrency` running tasks, a heartbeat in the registry, and the control
 * channel for cancels. `stop()` puts running tasks back on their queues.
 */
export class Agent {
  private readonly workers: Worker[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly ctx: TaskContext;
  private readonly registry: AgentRegistry;
  private readonly subscriber: Redis;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private state: "idle" | "busy" | "stopping" = "idle";
  private readonly startedAt: number;

  constructor(
    private readonly options: AgentOptions,
    private readonly deps: AgentDeps,
  ) {
    const log = (deps.log ?? silentLogger).child({ agent: options.name });
    const now = deps.now ?? Date.now;
    this.startedAt = now();
    this.ctx = {
      options,
      store: new TaskStore(deps.redis, options.CCC_PREFIX),
      events: new EventQueue({ connection: deps.redis, prefix: options.CCC_PREFIX }),
      workspace: new Workspace({ root: options.workdir, log }),
      usage: new UsageStore(deps.redis, options.CCC_PREFIX),
      log,
      runClaude: deps.runClaude ?? realRunClaude,
      now,
      progressIntervalMs: deps.progressIntervalMs ?? 2_000,
    };
    this.registry = new AgentRegistry(deps.redis, options.CCC_PREFIX);
    this.subscriber = deps.redis.duplicate();
  }

  /** Queues this agent takes work from, its own specialties before `general`. */
  get queueNames(): string[] {
    return [...this.options.specialties.filter((s) => s !== GENERAL), GENERAL].map(taskQueueName);
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(controlChannel(this.options.CCC_PREFIX));
    this.subscriber.on("message", (_channel, message) => this.onControl(message));
    await this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat().catch(() => {}), (this.options.heartbeatTtlSeconds * 1000) / 3);
    for (const name of this.queueNames) {
      const worker = new Worker(name, (job, token) => this.process(job, token), {
        connection: this.deps.redis,
        prefix: this.options.CCC_PREFIX,
        concurrency: this.options.concurrency,
        // Claude runs for many minutes; the lock is renewed while this process lives.
        lockDuration: 60_000,
      });
      worker.on("error", (error) => this.ctx.log.warn({ err: error, queue: name }, "worker error"));
      this.workers.push(worker);
    }
    this.ctx.log.info({ queues: this.queueNames, concurrency: this.options.concurrency }, "agent started");
  }

  /** Stops taking work, puts running tasks back on their queues, and leaves the registry. */
  async stop(): Promise<void> {
    this.state = "stopping";
    clearInterval(this.heartbeatTimer);
    await Promise.all(this.workers.map((w) => w.pause(true)));
    for (const controller of this.running.values()) controller.abort("shutdown" satisfies AbortReason);
    await Promise.all(this.workers.map((w) => w.close()));
    await this.registry.remove(this.options.name);
    await this.subscriber.quit().catch(() => {});
    await this.ctx.events.close();
  }

  private async process(job: Job, token: string | undefined): Promise<string> {
    const taskId = String((job.data as { taskId?: unknown }).taskId ?? job.id);
    // Workers on several queues share one budget; a job fetched over it goes straight back.
    if (this.running.size >= this.options.concurrency || this.state === "stopping") {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const controller = new AbortController();
    this.running.set(taskId, controller);
    this.refreshCapacity();
    try {
      return await processTask(this.ctx, job, token, controller.signal);
    } catch (error) {
      if (!isJobControl(error)) await recordUnexpectedError(this.ctx, job, error as Error).catch(() => {});
      throw error;
    } finally {
      this.running.delete(taskId);
      this.refreshCapacity();
    }
  }

  /** Pauses fetching while the budget is used up, so no worker grabs a job it must return. */
  private refreshCapacity(): void {
    if (this.state === "stopping") return;
    const full = this.running.size >= this.options.concurrency;
    this.state = this.running.size > 0 ? "busy" : "idle";
    for (const worker of this.workers) {
      if (full && !worker.isPaused()) void worker.pause(true);
      else if (!full && worker.isPaused()) worker.resume();
    }
    void this.heartbeat().catch(() => {});
  }

  private onControl(raw: string): void {
    let message: ControlMessage;
    try {
      message = JSON.parse(raw) as ControlMessage;
    } catch {
      return;
    }
    if (message.type === "cancel") {
      this.running.get(message.taskId)?.abort("cancelled" satisfies AbortReason);
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
        state: this.state,
        tasks: [...this.running.keys()],
        startedAt: this.startedAt,
        lastSeen: this.ctx.now(),
        version: VERSION,
      },
      this.options.heartbeatTtlSeconds,
    );
  }
}
