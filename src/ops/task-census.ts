import type { RedisClient } from "../shared/redis-client.js";
import { taskRecordSchema, type TaskFailure } from "../queue/task-record.js";
import { checkStored, decodeStoredFields } from "../shared/parse-stored.js";
import { readHashFields } from "../shared/read-hash-fields.js";
import type { TaskState } from "../shared/task-state.js";

/** The fields of a task record that counts and histograms need. */
export interface TaskSummary {
  taskId: string;
  state: TaskState;
  specialty: string;
  queue: string;
  queuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  failureKind?: TaskFailure["kind"];
  /** A run on a pull request that fixes its CI (`ci`) or merges its base (`conflict`). */
  fix?: "ci" | "conflict";
}

const FIELDS = ["state", "specialty", "queue", "queuedAt", "startedAt", "finishedAt", "failure", "ciFix", "conflict"] as const;

/** Those fields as a record holds them; all optional, as a task removed mid-scrape has none. */
const censusFieldsSchema = taskRecordSchema
  .pick({ state: true, specialty: true, queue: true, queuedAt: true, startedAt: true, finishedAt: true, failure: true, ciFix: true, conflict: true })
  .partial();

/** Scrapes read at most this many of the most recently queued tasks. */
export const CENSUS_LIMIT = 5_000;

/** Records read per round trip: a scrape holds this many replies at once, not the census's. */
const CHUNK = 500;

/**
 * What the last scrape read, by task id: a record whose version has not moved since is not read
 * again (every change to the fields counted here bumps it, a new run too). Holds at most the
 * census's limit of small summaries.
 */
export type CensusCache = Map<string, { version: string; summary: TaskSummary }>;

/**
 * The most recent task records, with only the fields that counting needs (no comments, no
 * results), read in script calls of CHUNK records: a scrape costs limit / CHUNK round trips and
 * holds one chunk's replies at a time. With `cache`, each record's version is read first and
 * only records that changed since the last scrape are read and parsed.
 */
export async function taskCensus(redis: RedisClient, prefix: string, limit = CENSUS_LIMIT, cache?: CensusCache): Promise<TaskSummary[]> {
  const ids = await redis.zrevrange(`${prefix}:tasks`, 0, limit - 1);
  const summaries: TaskSummary[] = [];
  const seen: CensusCache = new Map();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    if (!cache) {
      summaries.push(...(await summarise(redis, prefix, chunk)));
      continue;
    }
    const versions = await readVersions(redis, prefix, chunk);
    const changed = chunk.filter((id, j) => versions[j] !== undefined && cache.get(id)?.version !== versions[j]);
    const fresh = new Map((await summarise(redis, prefix, changed)).map((summary) => [summary.taskId, summary]));
    chunk.forEach((id, j) => {
      const version = versions[j];
      const summary = fresh.get(id) ?? (version !== undefined ? cache.get(id)?.summary : undefined);
      if (version === undefined || !summary) return;
      summaries.push(summary);
      seen.set(id, { version, summary });
    });
  }
  if (cache) {
    cache.clear();
    for (const [id, entry] of seen) cache.set(id, entry);
  }
  return summaries;
}

/** Each record's version as stored (undefined: the record is gone). */
async function readVersions(redis: RedisClient, prefix: string, ids: readonly string[]): Promise<Array<string | undefined>> {
  const values = await readHashFields(
    redis,
    ids.map((id) => `${prefix}:task:${id}`),
    ["version"],
  );
  return values.map(([version]) => version ?? undefined);
}

async function summarise(redis: RedisClient, prefix: string, ids: readonly string[]): Promise<TaskSummary[]> {
  const replies = await readHashFields(
    redis,
    ids.map((id) => `${prefix}:task:${id}`),
    FIELDS,
  );
  const summaries: TaskSummary[] = [];
  replies.forEach((values, i) => {
    const key = `${prefix}:task:${ids[i]!}`;
    const present = FIELDS.flatMap((field, f) => {
      const value: unknown = values[f];
      return typeof value === "string" ? [[field, value] as const] : [];
    });
    const fields = decodeStoredFields(Object.fromEntries(present), key);
    const { state, specialty, queue, queuedAt, startedAt, finishedAt, failure, ciFix, conflict } = checkStored(censusFieldsSchema, fields, key);
    if (state === undefined) return;
    summaries.push({
      taskId: ids[i]!,
      state,
      specialty: specialty ?? "general",
      queue: queue ?? "",
      queuedAt: queuedAt ?? 0,
      ...(startedAt !== undefined ? { startedAt } : {}),
      ...(finishedAt !== undefined ? { finishedAt } : {}),
      ...(failure ? { failureKind: failure.kind } : {}),
      ...(ciFix ? { fix: "ci" as const } : conflict ? { fix: "conflict" as const } : {}),
    });
  });
  return summaries;
}
