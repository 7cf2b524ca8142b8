import { z } from "zod";

/** How an event waits while GitHub is down. Such events retry without limit. */
export interface OutageRetry {
  /** The first wait; it doubles with every retry. */
  baseMs: number;
  /** The longest wait: a report lands at most about this long after GitHub recovers. */
  maxMs: number;
}

export const DEFAULT_OUTAGE_RETRY: OutageRetry = { baseMs: 2_000, maxMs: 60_000 };

/**
 * The wait before retry `retry` (1 for the first): doubling from `baseMs`, capped at `maxMs`,
 * less up to a fifth at random so that the events parked by one outage do not all come back
 * in the same second. Pure.
 */
export function outageRetryDelayMs(retry: number, options: OutageRetry, random: () => number = Math.random): number {
  const doubled = options.baseMs * 2 ** Math.min(Math.max(retry, 1) - 1, 40);
  return Math.round(Math.min(options.maxMs, doubled) * (0.8 + 0.2 * random()));
}

/**
 * The count lives in the job's data beside the event: BullMQ's `attemptsMade` counts only
 * spent attempts, and an outage spends none (the job is moved to delayed instead).
 */
const outageRetriesSchema = z.object({ outageRetries: z.number().int().min(0).catch(0) });

/** How many times GitHub was unavailable for this job so far. */
export function outageRetriesOf(jobData: unknown): number {
  const parsed = outageRetriesSchema.safeParse(jobData);
  return parsed.success ? parsed.data.outageRetries : 0;
}
