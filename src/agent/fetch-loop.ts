import type { Redis } from "ioredis";
import type { Logger } from "../shared/logger.js";
import { peekQueues, pickHead, queueKey } from "./queue-heads.js";
import type { TaskWorker } from "./task-worker.js";

export interface FetchLoopOptions {
  /** Reads the queues' heads. */
  redis: Redis;
  workers: readonly TaskWorker[];
  /** How many tasks may run at once right now: 0 while the agent's gate is closed. */
  capacity: () => number;
  /** Whether a task of this BullMQ priority may start now (an account near its budget takes only urgent and high). */
  admits: (priority: number) => boolean;
  log: Logger;
  /** Longest wait before looking at the queues again when nothing woke the loop. @defaultValue 5000 */
  idlePollMs?: number;
  now?: () => number;
}

/**
 * The agent's one fetch loop over all its queues: it takes the most urgent, then the oldest,
 * task any of them holds, so an urgent `general` task never waits behind a low `backend` one.
 * Idle, it blocks on the queues' BullMQ markers (new or due jobs wake it within milliseconds)
 * and on a timer for the next delayed job; `wake()` (the gate opened, a task ended) looks again.
 */
export class FetchLoop {
  private readonly byQueue: Map<string, TaskWorker>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly blocker: Redis;
  private readonly now: () => number;
  private stopped = false;
  /** Set by `wake()`; a wait that starts while it is set returns at once, so no wake is lost. */
  private dirty = true;
  private release: (() => void) | undefined;
  private pendingBlock: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private sequence = 0;

  constructor(private readonly options: FetchLoopOptions) {
    this.byQueue = new Map(options.workers.map((worker) => [worker.name, worker]));
    this.blocker = options.redis.duplicate();
    this.blocker.on("error", () => {});
    this.now = options.now ?? Date.now;
  }

  /** Tasks fetched and not yet finished. */
  get active(): number {
    return this.inFlight.size;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Something that decides fetching changed: look at the queues again now. */
  wake(): void {
    this.dirty = true;
    this.release?.();
  }

  /** Stops fetching and waits for the tasks in progress to settle (the caller aborts them first). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    this.blocker.disconnect();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.step();
      } catch (error) {
        this.options.log.warn({ err: error as Error }, "fetching the next task failed; trying again shortly");
        await this.wait(1_000, false);
      }
    }
  }

  private async step(): Promise<void> {
    this.dirty = false;
    const idlePollMs = this.options.idlePollMs ?? 5_000;
    if (this.inFlight.size >= this.options.capacity()) return this.wait(idlePollMs, false);
    const now = this.now();
    const peek = await peekQueues(this.options.redis, this.options.workers, now);
    const head = pickHead(peek.heads, this.options.admits);
    if (!head) {
      const untilDue = peek.nextDueAt === undefined ? idlePollMs : Math.max(1, Math.min(idlePollMs, peek.nextDueAt - now));
      return this.wait(untilDue, true);
    }
    if (this.stopped) return;
    const worker = this.byQueue.get(head.queue)!;
    const token = `${worker.id}:${++this.sequence}`;
    // The queue's best job now, which is the head peeked unless another agent took it first.
    const job = await worker.getNextJob(token, { block: false });
    if (!job) return;
    const run: Promise<void> = worker
      .processJob(job, token, () => false)
      .then(
        () => {},
        (error: Error) => this.options.log.warn({ err: error, queue: worker.name, jobId: job.id }, "finishing the task's job failed"),
      )
      .finally(() => {
        this.inFlight.delete(run);
        this.wake();
      });
    this.inFlight.add(run);
  }

  /** Waits for `wake()`, the timeout, or (idle) a BullMQ marker on any of the queues. */
  private wait(timeoutMs: number, onMarkers: boolean): Promise<void> {
    if (this.dirty || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // May run again later, when the shared marker wait ends: it must not undo a newer wait's release.
      const done = () => {
        clearTimeout(timer);
        if (this.release === done) this.release = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.release = done;
      if (onMarkers) void this.block().then(done);
    });
  }

  /**
   * One BZPOPMIN over every queue's marker, shared by successive waits. A marker taken while this
   * agent cannot use it is put back, so an idle agent blocked on the same queue still wakes.
   */
  private block(): Promise<void> {
    this.pendingBlock ??= (async () => {
      const markers = this.options.workers.map((worker) => queueKey(worker, "marker"));
      const seconds = (this.options.idlePollMs ?? 5_000) / 1000;
      try {
        const popped = await this.blocker.bzpopmin(...markers, seconds);
        if (popped && (this.stopped || this.inFlight.size >= this.options.capacity())) {
          const [key, member, score] = popped;
          await this.options.redis.zadd(key, score, member);
        }
      } catch {
        // Disconnected on stop, or Redis is away: the timer and the next peek carry on.
      } finally {
        this.pendingBlock = undefined;
      }
    })();
    return this.pendingBlock;
  }
}
