import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { readRetention } from "../queue/retention.js";
import { parseStored } from "../shared/parse-stored.js";
import { parseTaskId } from "../shared/task-id.js";

/** A blocked run's job, signed by the app at intake and queued only when its blockers close. */
export interface HeldJob {
  run: number;
  /** The queue the job goes on when released: `tasks-<specialty>`, or `actions` in runner mode. */
  queue: string;
  /** The signed job data; checked again (`TaskQueues.verify`) before it is queued, as Redis holds it. */
  data: unknown;
}

const heldJobSchema = z.object({ run: z.number().int().min(1), queue: z.string(), data: z.unknown() });
const dependentSchema = z.string().refine((id) => parseTaskId(id) !== undefined, "not a task id (owner/repo#n)");

/**
 * The store of blocked tasks: each one's held job (`<prefix>:held-job:<task>`), and the reverse
 * index from a blocker to the tasks that wait for it (`<prefix>:dependents:<issue key>`, a set),
 * so the blocker's `issues.closed` finds its dependents without reading every task. Both live a
 * task retention from their last write; the reconciler's check writes them again while a task
 * stays blocked. Each command names one key (no pipeline or script across keys), so the keys
 * may live in any Redis Cluster slot.
 */
export class BlockedTasks {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
    private readonly retentionMs = readRetention().taskMs,
  ) {}

  private heldKey(taskId: string): string {
    return `${this.prefix}:held-job:${taskId}`;
  }

  private dependentsKey(blockerKey: string): string {
    return `${this.prefix}:dependents:${blockerKey}`;
  }

  async hold(taskId: string, job: HeldJob): Promise<void> {
    await this.redis.set(this.heldKey(taskId), JSON.stringify(job), "PX", this.retentionMs);
  }

  /** Keeps a held job for another retention: its task is still blocked. */
  async touch(taskId: string): Promise<void> {
    await this.redis.pexpire(this.heldKey(taskId), this.retentionMs);
  }

  async held(taskId: string): Promise<HeldJob | undefined> {
    const key = this.heldKey(taskId);
    const raw = await this.redis.get(key);
    return raw === null ? undefined : parseStored(heldJobSchema, raw, key);
  }

  /** Forgets the held job of `run` (queued, or its task ended); a later run's stays. */
  async drop(taskId: string, run: number): Promise<void> {
    await this.redis.eval(
      "local v = redis.call('GET', KEYS[1]) if v and cjson.decode(v)['run'] == tonumber(ARGV[1]) then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      this.heldKey(taskId),
      String(run),
    );
  }

  /** Records that `taskId` waits for each blocker (`issueKey`s). */
  async index(taskId: string, blockerKeys: readonly string[]): Promise<void> {
    await Promise.all(
      blockerKeys.map(async (blocker) => {
        await this.redis.sadd(this.dependentsKey(blocker), JSON.stringify(taskId));
        await this.redis.pexpire(this.dependentsKey(blocker), this.retentionMs);
      }),
    );
  }

  /** The tasks that waited for the blocker when they were last checked; each may have moved on since. */
  async dependents(blockerKey: string): Promise<string[]> {
    const key = this.dependentsKey(blockerKey);
    return (await this.redis.smembers(key)).map((raw) => parseStored(dependentSchema, raw, key));
  }

  async unindex(taskId: string, blockerKeys: readonly string[]): Promise<void> {
    await Promise.all(blockerKeys.map((blocker) => this.redis.srem(this.dependentsKey(blocker), JSON.stringify(taskId))));
  }
}
