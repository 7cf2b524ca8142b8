import { randomUUID } from "node:crypto";
import type { RedisClient } from "../shared/redis-client.js";
import { silentLogger, type Logger } from "../shared/logger.js";

// Deletes the lock only if it is still ours: an expired lock may belong to another replica now.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// Extends the lock only if it is still ours; 0 means someone else holds it now.
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

export interface TaskLockOptions {
  redis: RedisClient;
  prefix: string;
  /**
   * How long a holder that stopped renewing (crashed, or cut off from Redis) keeps the task.
   * A live holder renews every third of it, however long its GitHub calls take.
   * @defaultValue 30000
   */
  ttlMs?: number;
  /** @defaultValue silentLogger */
  log?: Logger;
}

/** A lock this process holds, renewed until released. */
export interface HeldLock {
  /** False once a renewal found the lock gone or taken: another job may be rendering the task. */
  readonly held: boolean;
  release(): Promise<void>;
}

/**
 * Per-task mutual exclusion between reporter replicas and concurrent jobs. Without it two
 * renders of a new task would both see no comment id and create two tracking comments.
 */
export class TaskLock {
  private readonly ttlMs: number;
  private readonly log: Logger;

  constructor(private readonly options: TaskLockOptions) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.log = options.log ?? silentLogger;
  }

  key(taskId: string): string {
    return `${this.options.prefix}:lock:report:${taskId}`;
  }

  /** The lock, renewed in the background until released; undefined when another holder has the task. */
  async acquire(taskId: string): Promise<HeldLock | undefined> {
    const { redis } = this.options;
    const key = this.key(taskId);
    const token = randomUUID();
    if ((await redis.set(key, token, "PX", this.ttlMs, "NX")) !== "OK") return undefined;

    let state: "held" | "lost" | "released" = "held";
    const renew = async () => {
      try {
        const extended = Number(await redis.eval(EXTEND, 1, key, token, this.ttlMs)) === 1;
        // A renewal that raced the release finds the key gone: that is no loss.
        if (extended || state !== "held") return;
        state = "lost";
        clearInterval(timer);
        this.log.error({ key }, "lost the report lock mid-write (Redis or this process stalled past its TTL); another job may write this task's comment too");
      } catch (error) {
        // Redis unreachable: the next tick tries again; the lock lasts a full TTL from the last renewal.
        this.log.warn({ err: error, key }, "could not renew the report lock; retrying");
      }
    };
    const timer = setInterval(() => void renew(), Math.max(10, Math.floor(this.ttlMs / 3)));
    timer.unref();
    return {
      get held() {
        return state === "held";
      },
      release: async () => {
        clearInterval(timer);
        const wasHeld = state === "held";
        state = "released";
        if (wasHeld) await redis.eval(RELEASE, 1, key, token);
      },
    };
  }
}
