import type { Redis } from "ioredis";
import { taskRecordSchema, type TaskFailure } from "../queue/task-record.js";
import { checkStored, decodeStoredFields } from "../shared/parse-stored.js";
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
 * The most recent task records, with only the fields that counting needs (no comments, no
 * results), read in pipelines of CHUNK records: a scrape costs limit / CHUNK round trips and
 * holds one chunk's replies at a time.
 */
export async function taskCensus(redis: Redis, prefix: string, limit = CENSUS_LIMIT): Promise<TaskSummary[]> {
  const ids = await redis.zrevrange(`${prefix}:tasks`, 0, limit - 1);
  const summaries: TaskSummary[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) summaries.push(...(await summarise(redis, prefix, ids.slice(i, i + CHUNK))));
  return summaries;
}

async function summarise(redis: Redis, prefix: string, ids: readonly string[]): Promise<TaskSummary[]> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(`${prefix}:task:${id}`, ...FIELDS);
  const replies = (await pipeline.exec()) ?? [];
  const summaries: TaskSummary[] = [];
  replies.forEach(([error, values], i) => {
    if (error || !Array.isArray(values)) return;
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
