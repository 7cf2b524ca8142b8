import { duplicateClient, type RedisClient } from "../shared/redis-client.js";
import type { Logger } from "../shared/logger.js";
import { peekQueues, pickHead, queueKey } from "./queue-heads.js";
import type { TaskWorker } from "./task-worker.js";

export interface FetchLoopOptions {
  /** Reads the queues' heads. */
  redis: RedisClient;
  workers: readonly TaskWorker[];
  /** How many tasks may run at once right now: 0 while the agent's gate is closed. */
  capacity: () => number;
  /** Whether a task of this BullMQ priority may start now (an account near its budget takes only urgent and high). */
  admits: (priority: number) => boolean;
  log: Logger;
  /** Re-reads what `admits` decides by, when the queues hold work (an idle agent reads it less often). */
  refresh?: () => Promise<void>;
  /**
   * Longest wait before looking at the queues again when nothing woke the loop: only a safety
   * net, since new and due jobs wake it through their markers. @defaultValue 60000
   */
  idlePollMs?: number;
  now?: () => number;
  /** `CLIENT SETNAME` of the loop's blocking connection, to tell it apart in `CLIENT LIST`. */
  connectionName?: string;
}

/**
 * The agent's one fetch loop over all its queues: it takes the most urgent, then the oldest,
 * task any of them holds, so an urgent `general` task never waits behind a low `backend` one.
 * Idle, it blocks on the queues' BullMQ markers (new or due jobs wake it within milliseconds)
 * and on a timer for the next delayed job; `wake()` (the gate opened, a task ended) looks again.
 * BullMQ keeps one marker however many jobs wait, and one blocked agent takes it: an agent that
 * fetched a job puts a marker back, so the next idle agent wakes for what is left.
 */
const DEFAULT_IDLE_POLL_MS = 60_000;
/** How soon an agent looks again while the queues hold only work it may not take now (its budget). */
const HELD_BACK_POLL_MS = 5_000;
/** BullMQ's base marker: "a job is waiting" (`addBaseMarkerIfNeeded`). */
const BASE_MARKER = "0";

export class FetchLoop {
  private readonly byQueue: Map<string, TaskWorker>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly blocker: RedisClient;
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
    this.blocker = duplicateClient(options.redis, options.connectionName);
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
    const idlePollMs = this.idlePollMs;
    if (this.inFlight.size >= this.options.capacity()) return this.wait(idlePollMs, false);
    const now = this.now();
    const peek = await peekQueues(this.options.redis, this.options.workers, now);
    if (peek.heads.length > 0 && this.options.refresh) {
      await this.options.refresh();
      // The gate closed on what was read: the wake-up this agent may have taken is another's.
      if (this.inFlight.size >= this.options.capacity()) return this.passMarkers(peek.heads.map((h) => h.queue));
    }
    const head = pickHead(peek.heads, this.options.admits);
    if (!head) {
      const untilDue = peek.nextDueAt === undefined ? idlePollMs : Math.max(1, Math.min(idlePollMs, peek.nextDueAt - now));
      if (peek.heads.length === 0) return this.wait(untilDue, true);
      // Work this agent may not take now: the wake-up it may have taken is another agent's, and
      // blocking on markers again would only take it back.
      await this.passMarkers(peek.heads.map((h) => h.queue));
      return this.wait(Math.min(untilDue, HELD_BACK_POLL_MS), false);
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
    // A failure here only leaves the rest to the next marker or the idle poll.
    void this.passMarkers([head.queue]).catch(() => {});
  }

  private get idlePollMs(): number {
    return this.options.idlePollMs ?? DEFAULT_IDLE_POLL_MS;
  }

  /** Sets the queues' markers, so an idle agent blocked on them wakes and looks. */
  private async passMarkers(queues: readonly string[]): Promise<void> {
    const pass = this.options.redis.pipeline();
    for (const name of new Set(queues)) pass.zadd(queueKey(this.byQueue.get(name)!, "marker"), 0, BASE_MARKER);
    await pass.exec();
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
      const seconds = this.idlePollMs / 1000;
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
