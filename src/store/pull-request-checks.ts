import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "../shared/redis-client.js";
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
  /** Whether the PR merges with its base, as GitHub last said: `conflict` when it does not. */
  conflictState: z.enum(["clean", "conflict", "resolving", "gave-up"]).optional(),
  /** Conflict runs since the PR last merged cleanly, and in all. */
  conflictAttempts: z.number().int().min(0).optional(),
  conflictRuns: z.number().int().min(0).optional(),
  /** `<head sha>@<base sha>` last acted on: one conflict task per pair. */
  conflictHandled: z.string().optional(),
  conflictBase: z.string().optional(),
  /** The bound (`ciFixAttempts`) when the last attempt of each kind was claimed. */
  maxAttempts: z.number().int().optional(),
  conflictMaxAttempts: z.number().int().optional(),
  /** Someone other than the cluster pushed to the PR's branch (`pull_request.synchronize`). */
  humanCommits: z.boolean().optional(),
});
export type PullRequestChecksState = z.infer<typeof pullRequestChecksSchema>;

/** What `claimFix` decided. */
export type FixClaim =
  | { kind: "claimed"; attempt: number }
  /** This head commit was acted on already (a second red event for it). */
  | { kind: "duplicate" }
  /** The attempts are spent: the caller says so on the PR, once. */
  | { kind: "gave-up"; attempts: number };

// KEYS[1] the PR's hash. ARGV: the commit (or commit pair) acted on, max attempts, "1" when a
// person asked, a note (JSON), now, retention ms; then the fields of this kind of fix: attempts,
// runs, handled, state, note. CI fixes and conflict fixes count apart in one hash.
const CLAIM = `
local f_attempts, f_runs, f_handled, f_state, f_note = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local handled = redis.call('HGET', KEYS[1], f_handled)
local force = ARGV[3] == '1'
if not force and handled == cjson.encode(ARGV[1]) then return {'duplicate', 0} end
local attempts = tonumber(redis.call('HGET', KEYS[1], f_attempts) or '0')
if force then attempts = 0 end
local state = redis.call('HGET', KEYS[1], f_state)
redis.call('HSET', KEYS[1], f_handled, cjson.encode(ARGV[1]), f_note, ARGV[4], 'updatedAt', ARGV[5], ARGV[13], ARGV[2])
if redis.call('HEXISTS', KEYS[1], f_runs) == 0 then redis.call('HSET', KEYS[1], f_runs, '0') end
for _, pair in ipairs({{'state', cjson.encode('pending')}, {'attempts', '0'}, {'fixRuns', '0'}, {'failing', '[]'}}) do
  redis.call('HSETNX', KEYS[1], pair[1], pair[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if attempts >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], f_attempts, tostring(attempts), f_state, cjson.encode('gave-up'))
  if state == cjson.encode('gave-up') then return {'duplicate', 0} end
  return {'gave-up', attempts}
end
redis.call('HSET', KEYS[1], f_attempts, tostring(attempts + 1), f_state, cjson.encode(ARGV[12]), ARGV[13], ARGV[2])
redis.call('HINCRBY', KEYS[1], f_runs, 1)
return {'claimed', attempts + 1}
`;

/** The hash fields each kind of fix counts in, and the state a claimed attempt sets. */
const CI_FIELDS = ["attempts", "fixRuns", "handledSha", "state", "failing", "fixing", "maxAttempts"] as const;
const CONFLICT_FIELDS = ["conflictAttempts", "conflictRuns", "conflictHandled", "conflictState", "conflictBase", "resolving", "conflictMaxAttempts"] as const;

/** The fields every PR's hash has, for a hash a partial write started. */
function withDefaults(multi: ChainableCommander, key: string): ChainableCommander {
  return multi.hsetnx(key, "state", JSON.stringify("pending")).hsetnx(key, "attempts", "0").hsetnx(key, "fixRuns", "0").hsetnx(key, "failing", "[]");
}

/**
 * The cluster's pull requests' checks: which commits the cluster pushed (so a check event,
 * which names a commit, finds its PR without asking GitHub, and a commit a person pushed is
 * left alone), where each PR's checks stand, and how many CI fixes it has had. Entries live as
 * long as a finished task record (`CCC_TASK_RETENTION_DAYS`), counted from their last write.
 */
export class PullRequestChecks {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
    private readonly retentionMs = readRetention().taskMs,
  ) {}

  key(owner: string, repo: string, pr: number): string {
    return `${this.prefix}:pr-ci:${formatTaskId({ owner, repo, number: pr })}`;
  }

  private shaKey(owner: string, repo: string, sha: string): string {
    return `${this.prefix}:ci-sha:${owner}/${repo}@${sha}`;
  }

  /**
   * The cluster pushed `sha` to the PR's branch (which targets `base`): its checks are pending,
   * its red ones ours to fix, and a move of `base` is looked at for conflicts.
   */
  async notePush(owner: string, repo: string, pr: number, sha: string, at: number, base?: string): Promise<void> {
    const key = this.key(owner, repo, pr);
    const open = this.openKey(owner, repo);
    await this.redis
      .multi()
      .set(this.shaKey(owner, repo, sha), JSON.stringify(pr), "PX", this.retentionMs)
      .hset(open, { [String(pr)]: base ?? "" })
      .pexpire(open, this.retentionMs)
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
    await withDefaults(this.redis.multi().hset(key, fields), key).pexpire(key, this.retentionMs).exec();
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
    return this.claim(owner, repo, pr, sha, JSON.stringify(options.failing), options, CI_FIELDS);
  }

  /**
   * Takes the next conflict attempt for the PR's head against the base's commit `baseSha`, at
   * most `maxAttempts` since the PR last merged cleanly, and one per head and base pair.
   */
  async claimConflict(
    owner: string,
    repo: string,
    pr: number,
    pair: { headSha: string; baseSha: string; base: string },
    options: { maxAttempts: number; at: number },
  ): Promise<FixClaim> {
    return this.claim(owner, repo, pr, `${pair.headSha}@${pair.baseSha}`, JSON.stringify(pair.base), { ...options, asked: false }, CONFLICT_FIELDS);
  }

  /** GitHub says the PR merges cleanly with its base again: the conflict count starts over. */
  async mergesCleanly(owner: string, repo: string, pr: number, at: number): Promise<void> {
    const key = this.key(owner, repo, pr);
    const fields = { conflictState: JSON.stringify("clean"), conflictAttempts: "0", updatedAt: JSON.stringify(at) };
    await withDefaults(this.redis.multi().hset(key, fields), key).pexpire(key, this.retentionMs).exec();
  }

  /** The claimed conflict attempt could not be queued (another task is live on the PR): give it back. */
  async unclaimConflict(owner: string, repo: string, pr: number, at: number): Promise<void> {
    const key = this.key(owner, repo, pr);
    await this.redis
      .multi()
      .hincrby(key, "conflictAttempts", -1)
      .hincrby(key, "conflictRuns", -1)
      .hdel(key, "conflictHandled")
      .hset(key, { conflictState: JSON.stringify("conflict"), updatedAt: JSON.stringify(at) })
      .exec();
  }

  /** The cluster's open pull requests in the repository, with the base branch each targets. */
  async openPullRequests(owner: string, repo: string): Promise<Map<number, string>> {
    const raw = await this.redis.hgetall(this.openKey(owner, repo));
    return new Map(Object.entries(raw).map(([pr, base]) => [Number(pr), base]));
  }

  /** A commit someone other than the cluster pushed is on the PR: it is not merged "by the cluster alone". */
  async noteHumanCommit(owner: string, repo: string, pr: number, at: number): Promise<void> {
    const key = this.key(owner, repo, pr);
    await withDefaults(this.redis.multi().hset(key, { humanCommits: "true", updatedAt: JSON.stringify(at) }), key)
      .pexpire(key, this.retentionMs)
      .exec();
  }

  /** The pull request was closed or merged: no more looks at its checks or its base. */
  async closed(owner: string, repo: string, pr: number): Promise<void> {
    await this.redis.hdel(this.openKey(owner, repo), String(pr));
  }

  private openKey(owner: string, repo: string): string {
    return `${this.prefix}:ci-open:${owner}/${repo}`;
  }

  private async claim(
    owner: string,
    repo: string,
    pr: number,
    handled: string,
    note: string,
    options: { maxAttempts: number; asked: boolean; at: number },
    fields: readonly string[],
  ): Promise<FixClaim> {
    const [kind, attempts] = (await this.redis.eval(
      CLAIM,
      1,
      this.key(owner, repo, pr),
      handled,
      String(options.maxAttempts),
      options.asked ? "1" : "0",
      note,
      JSON.stringify(options.at),
      String(this.retentionMs),
      ...fields,
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
