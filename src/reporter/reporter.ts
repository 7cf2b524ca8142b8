import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { RedisClient } from "../shared/redis-client.js";
import type { TaskStore } from "../queue/task-store.js";
import type { TaskRecord } from "../queue/task-record.js";
import { PullRequestIndex } from "../store/pull-request-index.js";
import { PullRequestChecks } from "../store/pull-request-checks.js";
import type { CiWatchQueue } from "../queue/ci-watch-queue.js";
import { pullRequestCi } from "../store/publish-pull-request-ci.js";

/** The first look at a pushed commit's checks when the app does not say (`CCC_CI_SETTLE_SECONDS`). */
const DEFAULT_CI_SETTLE_MS = 20_000;
import { silentLogger, type Logger } from "../shared/logger.js";
import { EventQueue, eventJobId } from "../queue/event-queue.js";
import { EVENTS_QUEUE, reporterEventSchema, type LabelsEvent, type ReactEvent, type ReplyEvent, type ReporterEvent } from "../queue/reporter-event.js";
import { withSpan } from "../telemetry/tracer.js";
import { withEventSpan } from "./event-span.js";
import type { GetOctokit } from "../github/github-client.js";
import { httpStatus, isGitHubUnavailable, isRetryable, rateLimitedUntil } from "../github/github-errors.js";
import { enableAutoMerge } from "./enable-auto-merge.js";
import { openPullRequest, type OpenedPullRequest } from "./open-pull-request.js";
import { DEFAULT_OUTAGE_RETRY, outageRetriesOf, outageRetryDelayMs, type OutageRetry } from "./outage-retry.js";
import { renderTask } from "./render-task.js";
import { answerSessionCheck, openSessionIssue, type SessionIssueDeps } from "./session-issue.js";
import { TaskLock } from "./task-lock.js";
import { withoutRequestRetries } from "./without-request-retries.js";

export interface ReporterOptions {
  connection: RedisClient;
  /** BullMQ and lock key prefix. @defaultValue "ccc" */
  prefix?: string;
  store: TaskStore;
  getOctokit: GetOctokit;
  /** @defaultValue silentLogger */
  log?: Logger;
  /** Clock for coalescing and elapsed times. @defaultValue Date.now */
  now?: () => number;
  /** At most one tracking-comment edit per task per this many ms. @defaultValue 5000 */
  coalesceMs?: number;
  /** Events handled at once by this replica. @defaultValue 5 */
  concurrency?: number;
  /** Repository for session-timeout issues; unset puts them in the repository of the task that found out. */
  opsRepo?: SessionIssueDeps["opsRepo"];
  /** Where a pushed commit goes to have its checks looked at (src/app/ci). @defaultValue none: checks are followed from their events only */
  ciWatch?: CiWatchQueue;
  /** The first look at a pushed commit's checks, this long after the push. @defaultValue 20 s */
  ciSettleMs?: number;
  /** First retry delay of the events this reporter re-emits. @defaultValue 2000 */
  backoffMs?: number;
  /**
   * First wait after GitHub answered 5xx or could not be reached (installation token calls
   * included); it doubles per retry. Such events retry without limit. `CCC_GITHUB_RETRY_BASE_MS`.
   * @defaultValue 2000
   */
  githubRetryBaseMs?: number;
  /**
   * Longest wait between two tries while GitHub is down: reports land at most about this long
   * after it recovers. `CCC_GITHUB_RETRY_MAX_MS`. @defaultValue 60000
   */
  githubRetryMaxMs?: number;
  /** The per-task lock's TTL; a live holder renews it, however long its writes take. @defaultValue 30000 */
  lockTtlMs?: number;
}

/** How long a job waits when another replica holds its task, plus jitter so waiters spread. */
const LOCK_RETRY_MS = 250;

/**
 * The one writer to GitHub. Consumes the events queue, so with several app replicas each
 * event is written once, and a per-task Redis lock keeps two replicas from rendering the
 * same task at the same time.
 */
export class Reporter {
  private worker: Worker | undefined;
  private readonly events: EventQueue;
  private readonly lock: TaskLock;
  private readonly pullRequests: PullRequestIndex;
  private readonly checks: PullRequestChecks;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly coalesceMs: number;
  private readonly outageRetry: OutageRetry;
  /** The caller's clients, each request tried once: retries are this queue's job. */
  private readonly getOctokit: GetOctokit;

  constructor(private readonly options: ReporterOptions) {
    const prefix = options.prefix ?? "ccc";
    this.events = new EventQueue({ connection: options.connection, prefix, backoffMs: options.backoffMs });
    this.log = options.log ?? silentLogger;
    this.pullRequests = new PullRequestIndex(options.connection, prefix);
    this.checks = new PullRequestChecks(options.connection, prefix);
    this.lock = new TaskLock({ redis: options.connection, prefix, ttlMs: options.lockTtlMs, log: this.log });
    this.now = options.now ?? Date.now;
    this.coalesceMs = options.coalesceMs ?? 5000;
    this.outageRetry = {
      baseMs: options.githubRetryBaseMs ?? DEFAULT_OUTAGE_RETRY.baseMs,
      maxMs: options.githubRetryMaxMs ?? DEFAULT_OUTAGE_RETRY.maxMs,
    };
    this.getOctokit = async (installationId) => withoutRequestRetries(await options.getOctokit(installationId));
  }

  start(): void {
    if (this.worker) return;
    this.worker = new Worker(EVENTS_QUEUE, (job, token) => this.process(job, token), {
      connection: this.options.connection,
      prefix: this.options.prefix ?? "ccc",
      concurrency: this.options.concurrency ?? 5,
    });
    this.worker.on("failed", (job, error) => {
      this.log.warn({ err: error, jobId: job?.id, attemptsMade: job?.attemptsMade }, "reporter event failed");
    });
    // Without a listener an 'error' event would crash the process; BullMQ reconnects by itself.
    this.worker.on("error", (error) => this.log.error({ err: error }, "reporter worker error"));
    this.log.info({ concurrency: this.options.concurrency ?? 5, githubRetry: this.outageRetry }, "reporter started");
  }

  async close(): Promise<void> {
    await this.worker?.close();
    this.worker = undefined;
    await this.events.close();
  }

  /** One event, in a span of the trace that sent it (event-span.ts). */
  private async process(job: Job, token: string | undefined): Promise<void> {
    const parsed = reporterEventSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed reporter event: ${parsed.error.message}`);
    const event = parsed.data;
    await withEventSpan(event, job.id, this.options.store, () => this.handle(event, job, token));
  }

  private async handle(event: ReporterEvent, job: Job, token: string | undefined): Promise<void> {
    // Task events serialise per task, session events per agent: two replicas must never
    // create two tracking comments or two session-timeout issues.
    const lockKey =
      event.type === "reply" || event.type === "react" || event.type === "labels" ? undefined : "taskId" in event ? event.taskId : `session:${event.agent}`;
    const log = this.log.child({ jobId: job.id, event: event.type, ...(lockKey ? { key: lockKey } : {}) });
    try {
      if (event.type === "reply") return await this.reply(event);
      if (event.type === "react") return await this.react(event);
      if (event.type === "labels") return await this.labels(event);
      const lock = await this.lock.acquire(lockKey!);
      if (lock === undefined) {
        // Another replica or job holds it: wait our turn, spending no attempt.
        await job.moveToDelayed(Date.now() + LOCK_RETRY_MS + Math.floor(Math.random() * 100), token);
        throw new DelayedError();
      }
      try {
        if (event.type === "session-expired") return await openSessionIssue(this.sessionDeps(log), event);
        if (event.type === "session-verified") return await answerSessionCheck(this.sessionDeps(log), event);
        if (event.type === "pushed") await this.pushed(event.taskId, event.run, log);
        await this.render(event.taskId, job, token, log);
      } finally {
        await lock.release();
      }
    } catch (error) {
      throw await this.classify(error, job, token, log);
    }
  }

  private sessionDeps(log: Logger): SessionIssueDeps {
    return {
      redis: this.options.connection,
      prefix: this.options.prefix ?? "ccc",
      log,
      getOctokit: this.getOctokit,
      ...(this.options.opsRepo ? { opsRepo: this.options.opsRepo } : {}),
    };
  }

  /** The agent pushed: open or reuse the PR (a PR task: its own), then mark the task pr-open. Idempotent. */
  private async pushed(taskId: string, run: number | undefined, log: Logger): Promise<void> {
    const record = await this.options.store.get(taskId);
    if (!record) return;
    if (run !== undefined && record.run !== run) {
      // Run `run` ended otherwise (cancelled, failed) and a new run is under way: its push is not this one.
      log.info({ pushedRun: run, run: record.run }, "pushed event of an earlier run; the task's current run is left alone");
      return;
    }
    if (record.state !== "running") {
      // Cancelled (or already pr-open from an earlier attempt of this event): no new PR.
      log.info({ state: record.state }, "task is not running; not opening a pull request");
      return;
    }
    if (record.pullRequest) {
      // A PR task's commits went to the pull request it works on: never a second one.
      const { number } = record.pullRequest;
      // Red checks start fixes by themselves only on pull requests the cluster opened.
      if (record.pushedSha && (await this.pullRequests.lookup(record.owner, record.repo, number)) !== undefined) {
        await this.watchChecks(record, number, record.pushedSha);
      }
      const prCi = await pullRequestCi(this.ciDeps, record.owner, record.repo, number);
      const updated = await this.options.store.update(
        taskId,
        { state: "pr-open", prNumber: number, finishedAt: this.now(), ...(prCi ? { prCi } : {}) },
        ["running"],
        {
          run: record.run,
        },
      );
      log.info({ prNumber: number, commits: record.result?.commits, updated }, "commits pushed to the pull request");
      return;
    }
    const octokit = await this.getOctokit(record.installationId);
    let pr: OpenedPullRequest;
    try {
      pr = await withSpan("open pull request", { attributes: { "ccc.task.id": taskId, "ccc.task.run": record.run } }, async (span) => {
        const opened = await openPullRequest(octokit, record, log);
        span.setAttributes({ "ccc.pr.number": opened.number, "ccc.pr.created": opened.created });
        return opened;
      });
    } catch (error) {
      if (isRetryable(error) || rateLimitedUntil(error, Date.now()) !== undefined) throw error;
      // GitHub will never accept it (no commits between the branches, base gone, no access):
      // fail the task visibly instead of leaving it running forever.
      const message = `Could not open the pull request for \`${record.branch}\`: ${error instanceof Error ? error.message : String(error)}`;
      log.error({ err: error }, "pull request refused");
      await this.options.store.update(taskId, { state: "failed", failure: { kind: "push", message }, finishedAt: this.now() }, ["running"], {
        run: record.run,
      });
      return;
    }
    // Before the task shows pr-open: an outage here replays this event, which reuses the PR and asks again.
    const autoMergeOutcome = await enableAutoMerge(octokit, record, pr.nodeId, log);
    // Indexed before the task shows it: the PR's fate finds its task by this entry.
    await this.pullRequests.remember(record.owner, record.repo, pr.number, taskId);
    // Known as the cluster's commit before its checks can report: their red is ours to fix.
    if (record.pushedSha) await this.watchChecks(record, pr.number, record.pushedSha);
    const prCi = await pullRequestCi(this.ciDeps, record.owner, record.repo, pr.number);
    // Where the PR's checks stand comes with the state: "CI running" from the first render.
    const patch = {
      state: "pr-open" as const,
      prUrl: pr.url,
      prNumber: pr.number,
      finishedAt: this.now(),
      ...(prCi ? { prCi } : {}),
      ...(autoMergeOutcome && { autoMergeOutcome }),
    };
    const updated = await this.options.store.update(taskId, patch, ["running"], { run: record.run });
    if (!updated) log.warn({ prNumber: pr.number }, "task left running while the pull request was opened");
    else log.info({ prNumber: pr.number, created: pr.created }, "pull request ready");
  }

  /**
   * The cluster's commit is on its pull request: its checks are the cluster's to follow. The
   * first look is queued now, so a check event GitHub could not deliver (the app was down) is
   * caught by the look's own polling.
   */
  private get ciDeps() {
    return { redis: this.options.connection, prefix: this.options.prefix ?? "ccc" };
  }

  private async watchChecks(record: TaskRecord, pr: number, sha: string): Promise<void> {
    await this.checks.notePush(record.owner, record.repo, pr, sha, this.now(), record.baseBranch);
    const watch = { owner: record.owner, repo: record.repo, pr, sha, installationId: record.installationId, since: this.now() };
    await this.options.ciWatch?.watch(watch, this.options.ciSettleMs ?? DEFAULT_CI_SETTLE_MS);
  }

  private async render(taskId: string, job: Job, token: string | undefined, log: Logger): Promise<void> {
    const now = this.now();
    const deps = { store: this.options.store, getOctokit: this.getOctokit, log, now, coalesceMs: this.coalesceMs };
    const outcome = await withSpan("update tracking comment", { attributes: { "ccc.task.id": taskId } }, async (span) => {
      const rendered = await renderTask(deps, taskId);
      span.setAttribute("ccc.outcome", rendered.kind);
      return rendered;
    });
    if (outcome.kind !== "deferred") return;
    // One flush per task and due time: a burst of changes collapses into one delayed job.
    const flushKey = `flush-${taskId}-${outcome.until}`;
    const delayMs = outcome.until - now;
    if (job.id === eventJobId(flushKey)) {
      // This is that flush, run early (clock skew between replicas): push it back itself.
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    }
    await this.events.emit({ type: "task-changed", taskId }, { delayMs, jobId: flushKey });
  }

  private async reply(event: ReplyEvent): Promise<void> {
    const octokit = await this.getOctokit(event.installationId);
    await octokit.rest.issues.createComment({
      owner: event.owner,
      repo: event.repo,
      issue_number: event.issueNumber,
      body: event.body,
    });
  }

  private async labels(event: LabelsEvent): Promise<void> {
    const octokit = await this.getOctokit(event.installationId);
    const issue = { owner: event.owner, repo: event.repo, issue_number: event.issueNumber };
    if (event.add.length > 0) await octokit.rest.issues.addLabels({ ...issue, labels: event.add });
    for (const name of event.remove) {
      // Already gone is what was asked for.
      await octokit.rest.issues.removeLabel({ ...issue, name }).catch((error: unknown) => {
        if (httpStatus(error) !== 404) throw error;
      });
    }
  }

  private async react(event: ReactEvent): Promise<void> {
    const octokit = await this.getOctokit(event.installationId);
    const { owner, repo, content } = event;
    if (event.commentId !== undefined) {
      await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: event.commentId, content });
      return;
    }
    // The schema guarantees an issue when there is no comment.
    await octokit.rest.reactions.createForIssue({ owner, repo, issue_number: event.issueNumber!, content });
  }

  /**
   * Decides the job's fate from the error. GitHub slowing us down or out of reach: wait and
   * try again, spending no attempt, for as long as it takes. GitHub refusing the write: give
   * up. Anything else (a bug, Redis): BullMQ's attempts with backoff.
   */
  private async classify(error: unknown, job: Job, token: string | undefined, log: Logger): Promise<unknown> {
    if (error instanceof DelayedError || error instanceof UnrecoverableError) return error;
    const until = rateLimitedUntil(error, Date.now());
    if (until !== undefined) {
      log.warn({ until: new Date(until).toISOString() }, "GitHub rate limit; event waits without spending an attempt");
      await job.moveToDelayed(until, token);
      return new DelayedError();
    }
    if (isGitHubUnavailable(error)) {
      const retry = outageRetriesOf(job.data) + 1;
      const delayMs = outageRetryDelayMs(retry, this.outageRetry);
      log.warn({ err: error, retry, delayMs }, "GitHub unavailable; the event waits and tries again, without limit");
      await job.updateData({ ...job.data, outageRetries: retry });
      await job.moveToDelayed(Date.now() + delayMs, token);
      return new DelayedError();
    }
    if (!isRetryable(error)) {
      log.error({ err: error }, "GitHub refused the write; not retrying");
      return new UnrecoverableError(error instanceof Error ? error.message : String(error));
    }
    return error;
  }
}
