import { ConfigError } from "../config/env-error.js";
import { sharedEnvSchema } from "../config/shared-env.js";

/**
 * Redis runs with `maxmemory-policy noeviction` (BullMQ needs it), so nothing the cluster
 * writes may stay forever: every key family has one of the retentions below. The table in
 * docs/operations.md ("Retention") lists them all, with the keys they apply to.
 */
export interface Retention {
  /**
   * A finished task (pr-open, merged, closed, no-changes, failed, cancelled): its record, its id in the
   * recent-tasks list and its failed run's job. Live tasks never expire.
   * `CCC_TASK_RETENTION_DAYS`. @defaultValue 30 days
   */
  taskMs: number;
  /**
   * Webhook delivery ids and completed reporter events, whose job ids are dedupe keys: a
   * redelivery within this window is dropped. `CCC_DEDUPE_WINDOW_HOURS`. @defaultValue 1 day
   */
  dedupeMs: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_RETENTION: Retention = { taskMs: 30 * DAY_MS, dedupeMs: DAY_MS };

/** A completed task run's job (its data is what `ccc retry` reruns): this, or the task retention if shorter. */
export const COMPLETED_TASK_JOB_MAX_MS = 7 * DAY_MS;

/**
 * Finished jobs kept per task queue and per outcome, whatever their age. BullMQ removes old
 * finished jobs only when another job of the queue finishes, so this caps a queue that went quiet.
 */
export const TASK_JOBS_KEPT = 5_000;

/** The same cap for the events queue, which sees several jobs per task. */
export const EVENT_JOBS_KEPT = 10_000;

/** Failed reporter events, kept to read why GitHub refused a write. */
export const FAILED_EVENT_MS = 7 * DAY_MS;

/** Usage per run: the longest window the usage monitor reports is 7 days, plus a day of slack. */
export const USAGE_MS = 8 * DAY_MS;

/** Workflow dispatches, after their last change; a run longer than a day is cut off by its workflow timeout anyway. */
export const DISPATCH_MS = 2 * DAY_MS;

/**
 * Entries in BullMQ's own event stream per queue (`<prefix>:<queue>:events`; BullMQ's default
 * is 10 000). Nothing in the cluster reads these streams (no QueueEvents); they are only for
 * debugging by hand with XREVRANGE, for which the last thousand events are plenty.
 */
export const QUEUE_EVENTS_MAX_LEN = 1_000;

/** The retention settings from the environment; the app, agents and the CLI validate them at start. */
export function readRetention(env: NodeJS.ProcessEnv = process.env): Retention {
  const parsed = retentionEnvSchema.safeParse(env);
  if (!parsed.success) throw ConfigError.fromZod("The retention settings", parsed.error);
  return {
    taskMs: Math.max(1, Math.round(parsed.data.CCC_TASK_RETENTION_DAYS * DAY_MS)),
    dedupeMs: Math.max(1, Math.round((parsed.data.CCC_DEDUPE_WINDOW_HOURS * DAY_MS) / 24)),
  };
}

/** BullMQ's `removeOnComplete.age` is in whole seconds; never 0, which BullMQ reads as "remove at once". */
export function ageSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

const retentionEnvSchema = sharedEnvSchema.pick({ CCC_TASK_RETENTION_DAYS: true, CCC_DEDUPE_WINDOW_HOURS: true });
