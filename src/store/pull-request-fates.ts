import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { readRetention } from "../queue/retention.js";
import { parseStored } from "../shared/parse-stored.js";
import { taskCostKey } from "./usage-store.js";

/** What became of a pull request the cluster opened: one entry per PR, its latest fate. */
export interface PullRequestFate {
  /** The pull request, `owner/repo#<number>`. */
  pr: string;
  /** The task (issue) whose run opened it. */
  taskId: string;
  outcome: "merged" | "closed";
  specialty: string;
  /** The agent and Claude account of the run that opened it; `unknown` for runs from before accounts were recorded. */
  agent: string;
  account: string;
  /** When GitHub says the PR was opened (`created_at`). */
  openedAt: number;
  /** When it was merged or closed (`merged_at` / `closed_at`). */
  at: number;
  /** Every run and attempt of the task (and of the PR's own feedback task) since the previous fate, in USD. */
  costUsd: number;
  /** CI-fix and conflict runs the PR had (absent on fates recorded before they existed). */
  ciFixRuns?: number;
  conflictRuns?: number;
  /** Someone other than the cluster pushed to the PR's branch. */
  humanCommits?: boolean;
}

const fateSchema = z.object({
  pr: z.string(),
  taskId: z.string(),
  outcome: z.enum(["merged", "closed"]),
  specialty: z.string(),
  agent: z.string(),
  account: z.string(),
  openedAt: z.number(),
  at: z.number(),
  costUsd: z.number(),
  ciFixRuns: z.number().optional(),
  conflictRuns: z.number().optional(),
  humanCommits: z.boolean().optional(),
}) satisfies z.ZodType<PullRequestFate>;

/** Fates kept at most, whatever their age: the scrape reads them all, so this bounds its cost. */
export const PULL_REQUEST_FATES_KEPT = 10_000;

// Records a PR's fate once per outcome. KEYS[1] hash pr → fate JSON, KEYS[2] zset pr by time,
// KEYS[3..] the running costs to take (and delete); ARGV[1] pr, ARGV[2] fate JSON without cost,
// ARGV[3] its time, ARGV[4] time before which fates are dropped, ARGV[5] cap, ARGV[6] retention ms.
// The same outcome again (a redelivery) changes nothing; merged after closed (a reopened PR)
// replaces the entry and keeps the cost already taken.
const RECORD = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
local fate = cjson.decode(ARGV[2])
local cost = 0
if old then
  local prev = cjson.decode(old)
  if prev.outcome == fate.outcome or prev.outcome == 'merged' then return 0 end
  cost = prev.costUsd
end
for i = 3, #KEYS do
  cost = cost + tonumber(redis.call('GET', KEYS[i]) or '0')
  redis.call('DEL', KEYS[i])
end
fate.costUsd = cost
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(fate))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
for _, pr in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])) do
  redis.call('HDEL', KEYS[1], pr)
  redis.call('ZREM', KEYS[2], pr)
end
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #popped, 2 do redis.call('HDEL', KEYS[1], popped[i]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 1
`;

/**
 * The fates of the cluster's pull requests over the task retention (`CCC_TASK_RETENTION_DAYS`),
 * at most PULL_REQUEST_FATES_KEPT of them: what merge rate, cost per merged PR and time to
 * merge are computed from at each scrape. Both keys expire a retention after the last fate.
 */
export class PullRequestFates {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
    private readonly retentionMs = readRetention().taskMs,
    private readonly kept = PULL_REQUEST_FATES_KEPT,
  ) {}

  private get key(): string {
    return `${this.prefix}:pr-fates`;
  }

  /**
   * Records a fate, taking the running cost of `costOf` tasks into it. Returns false when this
   * outcome was recorded already (nothing changes) or the PR was merged before.
   */
  async record(fate: Omit<PullRequestFate, "costUsd">, costOf: readonly string[]): Promise<boolean> {
    const added = (await this.redis.eval(
      RECORD,
      2 + costOf.length,
      this.key,
      `${this.key}:by-time`,
      ...costOf.map((taskId) => taskCostKey(this.prefix, taskId)),
      fate.pr,
      JSON.stringify(fate),
      String(fate.at),
      String(fate.at - this.retentionMs),
      String(this.kept),
      String(this.retentionMs),
    )) as number;
    return added === 1;
  }

  /**
   * Forgets a closed PR's fate when it is reopened: it is open again, neither merged nor closed.
   * A merged PR's fate stays (a merged PR cannot be reopened). Returns whether one was dropped.
   */
  async forgetClosed(pr: string): Promise<boolean> {
    const raw = await this.redis.hget(this.key, pr);
    if (raw === null || parseStored(fateSchema, raw, this.key).outcome !== "closed") return false;
    const removed = await this.redis.multi().hdel(this.key, pr).zrem(`${this.key}:by-time`, pr).exec();
    return (removed?.[0]?.[1] as number) === 1;
  }

  /** Every fate kept, in no particular order. */
  async list(): Promise<PullRequestFate[]> {
    const values = await this.redis.hvals(this.key);
    return values.map((v) => parseStored(fateSchema, v, this.key));
  }
}
