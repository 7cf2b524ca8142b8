import type { RedisClient } from "../shared/redis-client.js";
import { FINAL_STATES, LIVE_STATES, type TaskState } from "../shared/task-state.js";
import { readRetention } from "./retention.js";
import { checkStored, decodeStoredFields } from "../shared/parse-stored.js";
import { taskRecordSchema, type TaskRecord } from "./task-record.js";
import { traceCarrierSchema, type TraceCarrier } from "../telemetry/trace-carrier-schema.js";
import { luaScript, runLuaScript } from "./lua-script.js";

/**
 * Fields a later run of the same issue keeps: the tracking comment is one per issue, and the
 * last Claude session, which a `/claude retry` on the agent that kept its worktree continues.
 */
const KEPT_ACROSS_RUNS = ["commentId", "lastEditAt", "session"] as const;

// Creates run n+1 unless a live run exists. KEYS[1] task hash, KEYS[2] recent-tasks zset,
// KEYS[3] running-tasks zset (a new run is not running);
// ARGV[1] JSON of live states, ARGV[2] JSON of the new record without run/version/jobId,
// ARGV[3] JSON list of kept fields, ARGV[4] task id, ARGV[5] queued-at score,
// ARGV[6] prefix of task hash keys, ARGV[7] score before which an id may be stale;
// optional KEYS[4] a key to probe and ARGV[8] the run it belongs to: the third reply says
// whether it exists when the new run is that one (-1: not probed).
// The DEL drops the TTL a finished run left (see TRANSITION): the new live record never expires.
const CLAIM = luaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if state then
  local live = cjson.decode(ARGV[1])
  for _, s in ipairs(live) do
    if cjson.decode(state) == s then return {0, redis.call('HGET', KEYS[1], 'run'), -1} end
  end
end
local run = tonumber(redis.call('HGET', KEYS[1], 'run') or '0') + 1
-- Versions go on from the last run's: a version read of one run never matches another run's.
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0') + 1
local kept = {}
for _, f in ipairs(cjson.decode(ARGV[3])) do
  local v = redis.call('HGET', KEYS[1], f)
  if v then kept[f] = v end
end
redis.call('DEL', KEYS[1])
local fields = cjson.decode(ARGV[2])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, v) end
for k, v in pairs(kept) do redis.call('HSET', KEYS[1], k, v) end
redis.call('HSET', KEYS[1], 'run', tostring(run), 'version', tostring(version), 'jobId', cjson.encode(ARGV[4] .. '@' .. run))
-- Forget up to 100 ids whose record expired. A record lives at least the retention after its
-- run was queued, so only ids scored before ARGV[7] can be stale; a live record never expires,
-- so its id is never dropped.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[7], 'LIMIT', 0, 100)) do
  if redis.call('EXISTS', ARGV[6] .. id) == 0 then redis.call('ZREM', KEYS[2], id) end
end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[4])
local probed = -1
if KEYS[4] and run == tonumber(ARGV[8]) then probed = redis.call('EXISTS', KEYS[4]) end
return {1, tostring(run), probed}
`);

// Applies a patch only while the state is one of ARGV[1] (empty list: every state).
// KEYS[1] task hash, KEYS[2] running-tasks zset; ARGV[2] JSON object of encoded fields; ARGV[3] "1" to bump the version;
// ARGV[4] JSON of final states; ARGV[5] retention in ms; ARGV[6] JSON object of fields that
// must hold these encoded values (a version as read, the run's lease) or nothing changes;
// ARGV[7] the time, ARGV[8] the task id.
const TRANSITION = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
for k, v in pairs(cjson.decode(ARGV[6])) do
  if redis.call('HGET', KEYS[1], k) ~= v then return 0 end
end
local allowed = cjson.decode(ARGV[1])
if #allowed > 0 then
  local state = cjson.decode(redis.call('HGET', KEYS[1], 'state'))
  local ok = false
  for _, s in ipairs(allowed) do if s == state then ok = true end end
  if not ok then return 0 end
end
local patch = cjson.decode(ARGV[2])
for k, v in pairs(patch) do
  if v == '__delete__' then redis.call('HDEL', KEYS[1], k) else redis.call('HSET', KEYS[1], k, v) end
end
-- Redis runs with noeviction: a record entering a final state expires after the retention;
-- one made live again never does. Patches without a state leave the TTL as it is.
if patch['state'] and patch['state'] ~= '__delete__' then
  local final = false
  for _, s in ipairs(cjson.decode(ARGV[4])) do if s == cjson.decode(patch['state']) then final = true end end
  if final then redis.call('PEXPIRE', KEYS[1], ARGV[5]) else redis.call('PERSIST', KEYS[1]) end
end
-- The running tasks' index, kept with the state in the same step: the reconciler checks every
-- running task at each pass, however long the backlog it pages through.
if patch['state'] then
  if patch['state'] ~= '__delete__' and cjson.decode(patch['state']) == 'running' then
    redis.call('ZADD', KEYS[2], ARGV[7], ARGV[8])
  else
    redis.call('ZREM', KEYS[2], ARGV[8])
  end
end
if ARGV[3] == '1' then return redis.call('HINCRBY', KEYS[1], 'version', 1) end
return 1
`);

/** More running tasks than this is a fleet the reconciler's page covers over several passes. */
const RUNNING_LIMIT = 5_000;

export type TaskPatch = { [K in keyof TaskRecord]?: TaskRecord[K] | null };

/**
 * Extra conditions for an update: `version` as read (nothing changed since), `lease` the
 * run's own (the agent still owns the task; a stale run after a sleep does not), `prNumber`
 * the pull request the caller acts on (still the task's own, not an earlier run's), `run` the
 * run the caller read.
 */
export interface TaskCondition {
  version?: number;
  lease?: string;
  prNumber?: number;
  run?: number;
}

export interface ClaimResult {
  created: boolean;
  run: number;
  /** Whether the probe's key exists, when a run was created and it is the probe's run; undefined otherwise. */
  probed?: boolean;
}

/** A key `claim` looks at in the same step, if the new run is `run` (a BullMQ job id that run would take). */
export interface ClaimProbe {
  run: number;
  key: string;
}

/**
 * Task records in Redis, one hash per issue with every field JSON-encoded. All writers go
 * through small atomic scripts, so an agent's progress and a reporter's bookkeeping never
 * overwrite each other.
 */
export class TaskStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
    /** How long a finished record is kept (`CCC_TASK_RETENTION_DAYS`). */
    private readonly retentionMs = readRetention().taskMs,
  ) {}

  key(taskId: string): string {
    return `${this.prefix}:task:${taskId}`;
  }

  /**
   * Starts a new run for the issue unless one is live; returns the run number either way.
   * The run's BullMQ job id is `taskJobId(taskId, run)`, recorded here in the same step.
   * `probe`: a key to look at in the same step (whether a job already holds the run's id).
   */
  async claim(record: Omit<TaskRecord, "run" | "version" | "jobId">, probe?: ClaimProbe): Promise<ClaimResult> {
    const [created, run, probed] = (await runLuaScript(this.redis, CLAIM, probe ? 4 : 3, [
      this.key(record.taskId),
      `${this.prefix}:tasks`,
      this.runningKey(),
      ...(probe ? [probe.key] : []),
      JSON.stringify(LIVE_STATES),
      JSON.stringify(encode(record as TaskPatch)),
      JSON.stringify(KEPT_ACROSS_RUNS),
      record.taskId,
      String(record.queuedAt),
      this.key(""),
      String(record.queuedAt - this.retentionMs),
      ...(probe ? [String(probe.run)] : []),
    ])) as [number, string, number];
    return { created: created === 1, run: Number(run), ...(probed >= 0 ? { probed: probed === 1 } : {}) };
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    return this.decode(taskId, await this.redis.hgetall(this.key(taskId)));
  }

  /** The record in a task hash read some other way (`HGETALL` in a caller's pipeline); undefined for none. */
  decode(taskId: string, raw: Record<string, string>): TaskRecord | undefined {
    if (!raw.state) return undefined;
    const key = this.key(taskId);
    return checkStored(taskRecordSchema, decodeStoredFields(raw, key), key);
  }

  /** The trace carrier of the task's latest run (one field read), for work on the task that came without one. */
  async traceOf(taskId: string): Promise<TraceCarrier | undefined> {
    const raw = await this.redis.hget(this.key(taskId), "trace");
    if (!raw) return undefined;
    try {
      const parsed = traceCarrierSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      // A trace is a nicety: a bad one is no trace, never a failed event.
      return undefined;
    }
  }

  /**
   * Changes a task if its state is one of `from` (any state when omitted) and bumps its
   * version. Returns false when the task is gone or in another state.
   */
  async update(taskId: string, patch: TaskPatch, from?: readonly TaskState[], where: TaskCondition = {}): Promise<boolean> {
    return (await this.apply(taskId, patch, from, true, where)) > 0;
  }

  /** Records bookkeeping (comment id, render times) without bumping the version; nothing when `where` no longer holds. */
  async annotate(taskId: string, patch: TaskPatch, where: TaskCondition = {}): Promise<void> {
    await this.apply(taskId, patch, undefined, false, where);
  }

  /**
   * Ids of the tasks whose record says `running`, longest running first: as many as agents run
   * at once. Kept by the same scripts that change a task's state; a task that was running when
   * a release without this index stopped is not in it until its next state change.
   */
  async runningIds(limit = RUNNING_LIMIT): Promise<string[]> {
    return this.redis.zrange(this.runningKey(), 0, limit - 1);
  }

  private runningKey(): string {
    return `${this.prefix}:tasks:running`;
  }

  /** Most recently queued tasks first. */
  async recent(limit = 50): Promise<TaskRecord[]> {
    const ids = await this.redis.zrevrange(`${this.prefix}:tasks`, 0, limit - 1);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    return records.filter((r): r is TaskRecord => r !== undefined);
  }

  private async apply(taskId: string, patch: TaskPatch, from: readonly TaskState[] | undefined, bump: boolean, where: TaskCondition = {}): Promise<number> {
    return (await runLuaScript(this.redis, TRANSITION, 2, [
      this.key(taskId),
      this.runningKey(),
      JSON.stringify(from ?? []),
      JSON.stringify(encode(patch)),
      bump ? "1" : "0",
      JSON.stringify(FINAL_STATES),
      String(this.retentionMs),
      // `version` is stored as a plain integer (HINCRBY), every other field JSON-encoded.
      JSON.stringify(Object.fromEntries(Object.entries(where).map(([k, v]) => [k, k === "version" ? String(v) : JSON.stringify(v)]))),
      String(Date.now()),
      taskId,
    ])) as number;
  }
}

function encode(patch: TaskPatch): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    fields[key] = value === null ? "__delete__" : JSON.stringify(value);
  }
  return fields;
}
