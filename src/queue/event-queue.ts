import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { traceField } from "../telemetry/trace-carrier.js";
import { ageSeconds, EVENT_JOBS_KEPT, FAILED_EVENT_MS, QUEUE_EVENTS_MAX_LEN, readRetention, type Retention } from "./retention.js";
import { EVENTS_QUEUE, reporterEventSchema, type ReporterEvent } from "./reporter-event.js";

export interface EventQueueOptions {
  connection: Redis;
  /** BullMQ key prefix, shared with the task queues. @defaultValue "ccc" */
  prefix?: string;
  /** First retry delay of the EVENT_ATTEMPTS; doubles per attempt (2 s, 4 s, 8 s, 16 s). @defaultValue 2000 */
  backoffMs?: number;
  /** How long completed events (dedupe keys) are kept. @defaultValue readRetention() (the environment) */
  retention?: Retention;
}

export interface EmitOptions {
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Dedupe key: a second emit with the same id is dropped while the first job is still kept. */
  jobId?: string;
}

/**
 * Tries for an event that fails for a reason other than GitHub (a bug, Redis). GitHub down
 * (5xx, no answer) or rate-limiting never spends one: the reporter retries those until they
 * land (see Reporter.classify).
 */
export const EVENT_ATTEMPTS = 5;

/**
 * BullMQ rejects custom ids that are integers or contain ':' (its key separator); a fixed
 * prefix and a substitute keep any caller key (delivery ids, `owner/repo#n`) valid.
 */
export function eventJobId(key: string): string {
  return `ev-${key.replaceAll(":", "_")}`;
}

/** The producer side of the events queue, used by the app, the agents and the reporter itself. */
export class EventQueue {
  private readonly queue: Queue;
  private readonly backoffMs: number;
  private readonly dedupeSeconds: number;

  constructor(options: EventQueueOptions) {
    this.queue = new Queue(EVENTS_QUEUE, {
      connection: options.connection,
      prefix: options.prefix ?? "ccc",
      streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
    });
    this.backoffMs = options.backoffMs ?? 2000;
    this.dedupeSeconds = ageSeconds((options.retention ?? readRetention()).dedupeMs);
  }

  async emit(event: ReporterEvent, options: EmitOptions = {}): Promise<void> {
    // Sent from inside a span (an agent's run, the app's handler): the reporter's work joins its trace.
    const data = reporterEventSchema.parse(event.trace ? event : { ...event, ...traceField() });
    const key = options.jobId ?? (data.type === "reply" || data.type === "labels" ? data.dedupeKey : undefined);
    const jobOptions: JobsOptions = {
      attempts: EVENT_ATTEMPTS,
      backoff: { type: "exponential", delay: this.backoffMs, jitter: 0.3 },
      // Kept completed jobs are what makes a jobId a dedupe key (`reply-<delivery id>`), so
      // they are kept for the same window as the webhook delivery ids.
      removeOnComplete: { age: this.dedupeSeconds, count: EVENT_JOBS_KEPT },
      removeOnFail: { age: ageSeconds(FAILED_EVENT_MS), count: EVENT_JOBS_KEPT },
      ...(key !== undefined ? { jobId: eventJobId(key) } : {}),
      ...(options.delayMs !== undefined && options.delayMs > 0 ? { delay: Math.ceil(options.delayMs) } : {}),
    };
    await this.queue.add(data.type, data, jobOptions);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
