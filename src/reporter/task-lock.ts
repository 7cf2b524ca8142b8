import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

// Deletes the lock only if it is still ours: an expired lock may belong to another replica now.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Per-task mutual exclusion between reporter replicas and concurrent jobs. Without it two
 * renders of a new task would both see no comment id and create two tracking comments.
 */
export class TaskLock {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Longer than any render (a few GitHub calls); a crashed holder frees it after this. */
    private readonly ttlMs = 30_000,
  ) {}

  key(taskId: string): string {
    return `${this.prefix}:lock:report:${taskId}`;
  }

  /** A token to release with, or undefined when another holder has the task. */
  async acquire(taskId: string): Promise<string | undefined> {
    const token = randomUUID();
    const ok = await this.redis.set(this.key(taskId), token, "PX", this.ttlMs, "NX");
    return ok === "OK" ? token : undefined;
  }

  async release(taskId: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(taskId), token);
  }
}
