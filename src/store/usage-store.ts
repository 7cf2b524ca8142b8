import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { readRetention, USAGE_MS } from "../queue/retention.js";
import { parseStored } from "../shared/parse-stored.js";

/** One finished Claude run, as the usage monitor counts it. */
export interface UsageEntry {
  at: number;
  agent: string;
  account: string;
  taskId: string;
  /** The task's run and attempt; absent on entries recorded before resumed sessions. */
  run?: number;
  attempt?: number;
  /** The run continued an earlier Claude session (`--resume`) instead of starting over. */
  resumed?: boolean;
  costUsd: number;
  turns: number;
  durationMs: number;
  /** How the run ended: `success` or a failure kind. */
  outcome: string;
  /** Tokens the run used, when the agent reports them (input includes cache reads and writes). */
  inputTokens?: number;
  outputTokens?: number;
}

const usageEntrySchema = z.object({
  at: z.number(),
  agent: z.string(),
  account: z.string(),
  taskId: z.string(),
  run: z.number().optional(),
  attempt: z.number().optional(),
  resumed: z.boolean().optional(),
  costUsd: z.number(),
  turns: z.number(),
  durationMs: z.number(),
  outcome: z.string(),
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
}) satisfies z.ZodType<UsageEntry>;

/**
 * The running cost of a task's runs and attempts since its pull request's last fate (a plain
 * number, INCRBYFLOAT): the pull-request fates take it when the PR is merged or closed, so the
 * cost of a PR outlives the 8-day usage window.
 */
export const taskCostKey = (prefix: string, taskId: string) => `${prefix}:usage:task:${taskId}`;

/** Claude usage per run in a Redis sorted set scored by time, shared by every agent. */
export class UsageStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
    /** How long a task's running cost is kept after its last run: as long as a finished task record. */
    private readonly taskCostMs = readRetention().taskMs,
  ) {}

  private get key(): string {
    return `${this.prefix}:usage`;
  }

  /**
   * Adds a run and drops those older than the retention. The set also expires that long after
   * the last run, when every run in it is too old: a cluster gone quiet keeps nothing. The
   * run's cost is added to its task's running cost too.
   */
  async record(entry: UsageEntry): Promise<void> {
    const taskCost = taskCostKey(this.prefix, entry.taskId);
    await this.redis
      .multi()
      .zadd(this.key, entry.at, JSON.stringify(entry))
      .zremrangebyscore(this.key, "-inf", entry.at - USAGE_MS)
      .pexpire(this.key, USAGE_MS)
      .incrbyfloat(taskCost, entry.costUsd)
      .pexpire(taskCost, this.taskCostMs)
      .exec();
  }

  /** Runs with `from <= at <= to`, oldest first. */
  async range(from: number, to: number): Promise<UsageEntry[]> {
    const members = await this.redis.zrangebyscore(this.key, from, to);
    return members.map((m) => parseStored(usageEntrySchema, m, this.key));
  }
}
