import type { RedisClient } from "../shared/redis-client.js";
import { DISPATCH_MS } from "../queue/retention.js";
import { z } from "zod";
import { taskDataSchema, type TaskData } from "../queue/task-data.js";
import { parseStored } from "../shared/parse-stored.js";

/** One workflow dispatch of a task's run. */
export interface DispatchRecord {
  id: string;
  taskId: string;
  run: number;
  owner: string;
  repo: string;
  specialty: string;
  installationId: number;
  /**
   * The dispatched workflow as its runs name it in `path`: `.github/workflows/claude-agent.yml`.
   * Only a `workflow_dispatch` run of this file in this repository is the dispatch's run. Unset on
   * records that predate it: the repository's config then names the workflow.
   */
  workflowPath?: string;
  /** `dispatched`: asked GitHub, no job started yet; `started`: a runner took the job; `expired`: re-queued after the timeout; `done`. */
  state: "dispatched" | "started" | "expired" | "done";
  dispatchedAt: number;
  /** After this (epoch ms) a dispatch still not started is cancelled and its task queued again. */
  deadline: number;
  /** Workflow run id, once a matching `workflow_run` event named it (or the API confirmed a job's run); events of any other run are ignored. */
  runId?: number;
  /** 1 for the first dispatch of this run, 2 after one re-queue, … */
  attempt: number;
  /** The runner that took the job. */
  runner?: string;
  /** The job's data, to put it back on the queue. */
  data: TaskData;
}

const dispatchRecordSchema = z.object({
  id: z.string(),
  taskId: z.string(),
  run: z.number(),
  owner: z.string(),
  repo: z.string(),
  specialty: z.string(),
  installationId: z.number(),
  workflowPath: z.string().optional(),
  state: z.enum(["dispatched", "started", "expired", "done"]),
  dispatchedAt: z.number(),
  deadline: z.number(),
  runId: z.number().optional(),
  attempt: z.number(),
  runner: z.string().optional(),
  /** The signed job data as queued: loose, so its `signature` (checked again before it is re-queued) is kept. */
  data: taskDataSchema.loose(),
}) satisfies z.ZodType<DispatchRecord>;

/**
 * Dispatch records in Redis, one JSON value per dispatch id, plus a sorted set of those not
 * yet started scored by deadline, so the dispatcher finds overdue ones in one call and knows
 * how many idle runners are already promised to earlier dispatches.
 */
export class DispatchStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:dispatch:${id}`;
  }

  private get pendingKey(): string {
    return `${this.prefix}:dispatches:pending`;
  }

  /** Dispatched or started: runs that may still be working for a task (cancel, emergency stop). */
  private get activeKey(): string {
    return `${this.prefix}:dispatches:active`;
  }

  async save(record: DispatchRecord): Promise<void> {
    const multi = this.redis.multi().set(this.key(record.id), JSON.stringify(record), "PX", DISPATCH_MS);
    if (record.state === "dispatched") multi.zadd(this.pendingKey, record.deadline, record.id);
    else multi.zrem(this.pendingKey, record.id);
    if (record.state === "dispatched" || record.state === "started") multi.zadd(this.activeKey, record.dispatchedAt, record.id);
    else multi.zrem(this.activeKey, record.id);
    await multi.exec();
  }

  async get(id: string): Promise<DispatchRecord | undefined> {
    const raw = await this.redis.get(this.key(id));
    return raw === null ? undefined : parseStored(dispatchRecordSchema, raw, this.key(id));
  }

  /** Dispatches not started yet, oldest deadline first. */
  pending(): Promise<DispatchRecord[]> {
    return this.indexed(this.pendingKey);
  }

  /** Dispatches not started yet and those whose job is running, oldest first. */
  active(): Promise<DispatchRecord[]> {
    return this.indexed(this.activeKey);
  }

  private async indexed(key: string): Promise<DispatchRecord[]> {
    const ids = await this.redis.zrange(key, 0, -1);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    const gone = ids.filter((_, i) => records[i] === undefined);
    if (gone.length > 0) await this.redis.zrem(key, ...gone);
    return records.filter((record): record is DispatchRecord => record !== undefined);
  }

  /** Counts how often a task's run has been dispatched; the dispatcher gives up after a few. */
  async countAttempt(taskId: string, run: number): Promise<number> {
    const key = `${this.prefix}:dispatch-attempts:${taskId}@${run}`;
    const [[, count]] = (await this.redis.multi().incr(key).pexpire(key, DISPATCH_MS).exec()) as [[null, number], unknown];
    return count;
  }
}
