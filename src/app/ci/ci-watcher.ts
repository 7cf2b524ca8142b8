import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { GetOctokit } from "../../github/github-client.js";
import { CI_WATCH_MAX_MS, CI_WATCH_QUEUE, ciWatchSchema } from "../../queue/ci-watch-queue.js";
import type { IntakeDeps } from "../intake-deps.js";
import { settleChecks } from "./settle-checks.js";
import { settleMergeable } from "./settle-mergeable.js";

/** Looks at a commit with no checks yet for this long: a repository without CI never gets any. */
const NO_CHECKS_MS = 10 * 60_000;
/** How long GitHub may take to say whether a pull request merges before the look lets it be. */
const MERGEABLE_WAIT_MS = 5 * 60_000;
/** The longest wait between two looks at a commit whose checks still run. */
const MAX_LOOK_INTERVAL_MS = 5 * 60_000;

/**
 * When to look again at a commit whose checks still run, `waitedMs` after it was first watched:
 * soon at first, then less often (half the time waited so far, at most five minutes), so a
 * ten-minute CI costs a handful of reads and a missed check event is caught all the same. Pure.
 */
export function nextLookDelay(waitedMs: number, settleMs: number): number {
  return Math.min(MAX_LOOK_INTERVAL_MS, Math.max(settleMs, Math.round(waitedMs / 2)));
}

/**
 * The app's worker over the CI watch queue (one per replica; BullMQ hands each look to one):
 * settles each watched head commit of a cluster pull request and waits again while its checks run.
 */
export class CiWatcher {
  private worker: Worker | undefined;

  constructor(private readonly deps: IntakeDeps & { getOctokit: GetOctokit; ciSettleMs: number }) {}

  start(): void {
    if (this.worker) return;
    this.worker = new Worker(CI_WATCH_QUEUE, (job, token) => this.process(job, token), {
      connection: this.deps.redis,
      prefix: this.deps.prefix,
      concurrency: 4,
    });
    this.worker.on("failed", (job, error) => this.deps.log.warn({ err: error, jobId: job?.id, attemptsMade: job?.attemptsMade }, "CI watch failed"));
    // Without a listener an 'error' event would crash the process; BullMQ reconnects by itself.
    this.worker.on("error", (error) => this.deps.log.error({ err: error }, "CI watch worker error"));
  }

  async close(): Promise<void> {
    await this.worker?.close();
    this.worker = undefined;
  }

  private async process(job: Job, token: string | undefined): Promise<void> {
    const parsed = ciWatchSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed CI watch: ${parsed.error.message}`);
    const watch = parsed.data;
    const log = this.deps.log.child({ repo: `${watch.owner}/${watch.repo}`, pr: watch.pr, sha: watch.sha });
    const now = (this.deps.now ?? Date.now)();
    if (watch.kind === "mergeable") {
      const outcome = await settleMergeable(this.deps, watch);
      // GitHub computes mergeability within seconds; a PR it never decides on is let go.
      if (outcome.kind === "unknown" && now - watch.since < MERGEABLE_WAIT_MS) {
        await job.moveToDelayed(now + Math.min(this.deps.ciSettleMs, 5_000), token);
        throw new DelayedError();
      }
      log.info({ outcome: outcome.kind }, "mergeability settled");
      return;
    }
    const outcome = await settleChecks(this.deps, watch);
    if (outcome.kind !== "pending" && outcome.kind !== "none") {
      log.info({ outcome: outcome.kind, ...(outcome.kind === "red" ? { fix: outcome.fix.status } : {}) }, "checks settled");
      return;
    }
    const waited = now - watch.since;
    if (waited >= CI_WATCH_MAX_MS || (outcome.kind === "none" && waited >= NO_CHECKS_MS)) {
      log.info({ outcome: outcome.kind, waitedMs: waited }, "stopped waiting for the commit's checks");
      return;
    }
    const delay = nextLookDelay(waited, this.deps.ciSettleMs);
    log.debug({ outcome: outcome.kind, ...(outcome.kind === "pending" ? { waitingOn: outcome.waitingOn } : {}), nextLookMs: delay }, "checks still running");
    await job.moveToDelayed(now + delay, token);
    throw new DelayedError();
  }
}
