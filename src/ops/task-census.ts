import type { Redis } from "ioredis";
import type { TaskFailure } from "../queue/task-record.js";
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
}

const FIELDS = ["state", "specialty", "queue", "queuedAt", "startedAt", "finishedAt", "failure"] as const;

/** Scrapes read at most this many of the most recently queued tasks. */
export const CENSUS_LIMIT = 5_000;

/**
 * The most recent task records, read in one pipeline with only the fields that counting
 * needs (no comments, no results), so a scrape costs one round trip.
 */
export async function taskCensus(redis: Redis, prefix: string, limit = CENSUS_LIMIT): Promise<TaskSummary[]> {
  const ids = await redis.zrevrange(`${prefix}:tasks`, 0, limit - 1);
  if (ids.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(`${prefix}:task:${id}`, ...FIELDS);
  const replies = (await pipeline.exec()) ?? [];
  const summaries: TaskSummary[] = [];
  replies.forEach(([error, values], i) => {
    if (error || !Array.isArray(values)) return;
    const [state, specialty, queue, queuedAt, startedAt, finishedAt, failure] = (values as Array<string | null>).map((v) => (v === null ? undefined : (JSON.parse(v) as unknown)));
    if (typeof state !== "string") return;
    summaries.push({
      taskId: ids[i]!,
      state: state as TaskState,
      specialty: String(specialty ?? "general"),
      queue: String(queue ?? ""),
      queuedAt: Number(queuedAt ?? 0),
      ...(typeof startedAt === "number" ? { startedAt } : {}),
      ...(typeof finishedAt === "number" ? { finishedAt } : {}),
      ...(failure && typeof failure === "object" && "kind" in failure ? { failureKind: (failure as TaskFailure).kind } : {}),
    });
  });
  return summaries;
}
