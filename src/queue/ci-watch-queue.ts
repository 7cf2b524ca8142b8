import { Queue } from "bullmq";
import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { QUEUE_EVENTS_MAX_LEN } from "./retention.js";

/** The queue of pull request head commits whose checks the app waits to settle (src/app/ci). */
export const CI_WATCH_QUEUE = "ci-watch";

/** One cluster pull request's head commit to look at once its checks settle. */
export const ciWatchSchema = z.object({
  /** `checks`: are the head's checks red? `mergeable`: does the PR still merge with its moved base? */
  kind: z.enum(["checks", "mergeable"]).default("checks"),
  owner: z.string(),
  repo: z.string(),
  pr: z.number().int(),
  /** The head commit whose checks to judge, or (`mergeable`) the base branch's new commit. */
  sha: z.string(),
  installationId: z.number().int(),
  /** When the commit was first watched (epoch ms): the watch gives up waiting after `CI_WATCH_MAX_MS`. */
  since: z.number(),
});
export type CiWatch = z.input<typeof ciWatchSchema>;

/** How long a head commit's checks are waited for before the watch lets it be. */
export const CI_WATCH_MAX_MS = 6 * 60 * 60_000;

/** One job per pull request and head commit: three events for one red commit are one look. */
export function ciWatchJobId(watch: Pick<CiWatch, "kind" | "owner" | "repo" | "pr" | "sha">): string {
  return `${watch.kind === "mergeable" ? "merge" : "ci"}-${watch.owner}/${watch.repo}#${watch.pr}@${watch.sha}`.replaceAll(":", "_");
}

/**
 * The producer side of the CI watch: the reporter adds a commit when it pushes it to a PR, the
 * check events add it again (sooner) when a check completes. A watch waits `settleMs` so the
 * check suite, check runs and statuses GitHub sends for one commit make one look.
 */
export class CiWatchQueue {
  private readonly queue: Queue;

  constructor(options: { connection: RedisClient; prefix?: string }) {
    this.queue = new Queue(CI_WATCH_QUEUE, {
      connection: options.connection,
      prefix: options.prefix ?? "ccc",
      streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
    });
  }

  /**
   * Looks at the commit `settleMs` from now: a look already waiting is moved there (a debounce:
   * each completed check restarts the wait, so the look comes once the commit's checks are quiet).
   */
  async watch(watch: CiWatch, settleMs: number): Promise<void> {
    const data = ciWatchSchema.parse(watch);
    const jobId = ciWatchJobId(data);
    await this.queue.add("watch", data, {
      jobId,
      delay: settleMs,
      attempts: 5,
      backoff: { type: "exponential", delay: 5_000, jitter: 0.3 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600, count: 1_000 },
    });
    // The id was taken: that job stands, and its look moves to `settleMs` from now. One being
    // looked at now carries on; it waits for the checks itself when they are still running.
    const existing = await this.queue.getJob(jobId);
    if (existing && (await existing.isDelayed())) await existing.changeDelay(settleMs).catch(() => {});
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
