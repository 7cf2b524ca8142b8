import type { Redis } from "ioredis";
import { z } from "zod";
import { readRetention } from "../queue/retention.js";
import { checkStored, decodeStoredFields, parseStored } from "../shared/parse-stored.js";
import { formatTaskId } from "../shared/task-id.js";

/** Where a cluster pull request's checks stand, as the tracking comment and `ccc tasks` say it. */
export const CI_STATES = ["pending", "green", "red", "fixing", "gave-up"] as const;
export type CiState = (typeof CI_STATES)[number];

/** What the cluster knows of one of its pull requests' checks. */
export const pullRequestChecksSchema = z.object({
  /** The last commit the cluster pushed to the PR: only its red checks start a fix by themselves. */
  headSha: z.string().optional(),
  state: z.enum(CI_STATES),
  /** CI-fix attempts since the checks were last green (`ciFixAttempts` bounds them). */
  attempts: z.number().int().min(0),
  /** Every CI-fix run the PR had, green or not: the merge numbers count them. */
  fixRuns: z.number().int().min(0),
  /** The head commit whose red checks were last acted on (fixed or given up on): one task per commit. */
  handledSha: z.string().optional(),
  /** Names of the checks that failed last. */
  failing: z.array(z.string()),
  updatedAt: z.number(),
});
export type PullRequestChecksState = z.infer<typeof pullRequestChecksSchema>;

/** What `claimFix` decided. */
export type FixClaim =
  | { kind: "claimed"; attempt: number }
  /** This head commit was acted on already (a second red event for it). */
  | { kind: "duplicate" }
  /** The attempts are spent: the caller says so on the PR, once. */
  | { kind: "gave-up"; attempts: number };

// KEYS[1] the PR's hash. ARGV: sha, max attempts, "1" when a person asked (`/claude fix-ci`),
// failing names (JSON), now, retention ms.
const CLAIM_FIX = `
local handled = redis.call('HGET', KEYS[1], 'handledSha')
local force = ARGV[3] == '1'
if not force and handled == cjson.encode(ARGV[1]) then return {'duplicate', 0} end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if force then attempts = 0 end
local state = redis.call('HGET', KEYS[1], 'state')
redis.call('HSET', KEYS[1], 'handledSha', cjson.encode(ARGV[1]), 'failing', ARGV[4], 'updatedAt', ARGV[5])
if redis.call('HEXISTS', KEYS[1], 'fixRuns') == 0 then redis.call('HSET', KEYS[1], 'fixRuns', '0') end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if attempts >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'attempts', tostring(attempts), 'state', cjson.encode('gave-up'))
  if state == cjson.encode('gave-up') then return {'duplicate', 0} end
  return {'gave-up', attempts}
end
redis.call('HSET', KEYS[1], 'attempts', tostring(attempts + 1), 'state', cjson.encode('fixing'))
redis.call('HINCRBY', KEYS[1], 'fixRuns', 1)
return {'claimed', attempts + 1}
`;

/**
 * The cluster's pull requests' checks: which commits the cluster pushed (so a check event,
 * which names a commit, finds its PR without asking GitHub, and a commit a person pushed is
 * left alone), where each PR's checks stand, and how many CI fixes it has had. Entries live as
 * long as a finished task record (`CCC_TASK_RETENTION_DAYS`), counted from their last write.
 */
export class PullRequestChecks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "ccc",
    private readonly retentionMs = readRetention().taskMs,
  ) {}

  key(owner: string, repo: string, pr: number): string {
    return `${this.prefix}:pr-ci:${formatTaskId({ owner, repo, number: pr })}`;
  }

  private shaKey(owner: string, repo: string, sha: string): string {
    return `${this.prefix}:ci-sha:${owner}/${repo}@${sha}`;
  }

  /** The cluster pushed `sha` to the PR's branch: its checks are pending, and its red ones ours to fix. */
  async notePush(owner: string, repo: string, pr: number, sha: string, at: number): Promise<void> {
    const key = this.key(owner, repo, pr);
    await this.redis
      .multi()
      .set(this.shaKey(owner, repo, sha), JSON.stringify(pr), "PX", this.retentionMs)
      .hset(key, { headSha: JSON.stringify(sha), state: JSON.stringify("pending"), failing: "[]", updatedAt: JSON.stringify(at) })
      .hsetnx(key, "attempts", "0")
      .hsetnx(key, "fixRuns", "0")
      .pexpire(key, this.retentionMs)
      .exec();
  }

  /** The cluster's pull request that `sha` was pushed to, if the cluster pushed it. */
  async pullRequestOf(owner: string, repo: string, sha: string): Promise<number | undefined> {
    const key = this.shaKey(owner, repo, sha);
    const raw = await this.redis.get(key);
    return raw === null ? undefined : parseStored(z.number().int(), raw, key);
  }

  async get(owner: string, repo: string, pr: number): Promise<PullRequestChecksState | undefined> {
    const key = this.key(owner, repo, pr);
    const fields = await this.redis.hgetall(key);
    if (Object.keys(fields).length === 0) return undefined;
    return checkStored(pullRequestChecksSchema, decodeStoredFields(fields, key), key);
  }

  /**
   * The head's checks settled: green resets the attempts (a later red is a new problem); red is
   * noted unless a fix for this very commit is under way.
   */
  async settled(owner: string, repo: string, pr: number, verdict: "green" | "red", failing: readonly string[], at: number): Promise<void> {
    const key = this.key(owner, repo, pr);
    const fields: Record<string, string> = { failing: JSON.stringify(failing), updatedAt: JSON.stringify(at) };
    if (verdict === "green") Object.assign(fields, { state: JSON.stringify("green"), attempts: "0" });
    else if ((await this.get(owner, repo, pr))?.state !== "fixing") fields.state = JSON.stringify("red");
    await this.redis.multi().hset(key, fields).hsetnx(key, "attempts", "0").hsetnx(key, "fixRuns", "0").pexpire(key, this.retentionMs).exec();
  }

  /**
   * Takes the next CI-fix attempt for the PR's red head `sha`, at most `maxAttempts` since the
   * checks were last green, and one per head commit. A person's `/claude fix-ci` (`asked`)
   * starts the count again.
   */
  async claimFix(
    owner: string,
    repo: string,
    pr: number,
    sha: string,
    options: { maxAttempts: number; asked: boolean; failing: readonly string[]; at: number },
  ): Promise<FixClaim> {
    const [kind, attempts] = (await this.redis.eval(
      CLAIM_FIX,
      1,
      this.key(owner, repo, pr),
      sha,
      String(options.maxAttempts),
      options.asked ? "1" : "0",
      JSON.stringify(options.failing),
      JSON.stringify(options.at),
      String(this.retentionMs),
    )) as [string, number];
    if (kind === "claimed") return { kind, attempt: attempts };
    if (kind === "gave-up") return { kind, attempts };
    return { kind: "duplicate" };
  }

  /** The claimed attempt could not be queued (another task is live on the PR): give it back. */
  async unclaim(owner: string, repo: string, pr: number, at: number): Promise<void> {
    const key = this.key(owner, repo, pr);
    await this.redis
      .multi()
      .hincrby(key, "attempts", -1)
      .hincrby(key, "fixRuns", -1)
      .hdel(key, "handledSha")
      .hset(key, { state: JSON.stringify("red"), updatedAt: JSON.stringify(at) })
      .exec();
  }
}
