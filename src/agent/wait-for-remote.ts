import { DelayedError, type Job } from "bullmq";
import type { TaskData } from "../queue/task-data.js";
import { GitError } from "../workspace/errors.js";
import type { TaskContext } from "./task-context.js";

/** git's words for a repository this machine will not reach by waiting: credentials, a wrong URL. */
const UNREACHABLE_FOR_GOOD = /authentication failed|could not read username|permission denied \(publickey\)|repository not found|not found$/im;

/** Bookkeeping kept in the job's data while its repository cannot be reached. */
interface RemoteWait {
  remoteUnreachableSince?: number;
  remoteTries?: number;
}

/** A fetch or clone that failed for a reason that may pass: GitHub down, the network gone. */
export function isRemoteOutage(error: unknown): error is GitError {
  return error instanceof GitError && (error.code === "fetch-failed" || error.code === "clone-failed") && !UNREACHABLE_FOR_GOOD.test(error.stderr);
}

/**
 * git could not reach the task's repository before Claude started: nothing is lost by waiting,
 * so the task waits on the queue (no attempt spent) and is tried again with backoff, 5 s
 * doubling to a minute, for `gitRetryMinutes`. The issue says what it waits for. After the
 * window the error goes on and spends an attempt as before.
 */
export async function waitForRemote(ctx: TaskContext, job: Job, token: string | undefined, data: TaskData, error: GitError, lease: string): Promise<never> {
  const now = ctx.now();
  const wait = job.data as RemoteWait;
  const since = wait.remoteUnreachableSince ?? now;
  if (now - since >= ctx.options.gitRetryMinutes * 60_000) throw error;
  const tries = (wait.remoteTries ?? 0) + 1;
  const nextAt = now + Math.min(60_000, (ctx.remoteRetryFirstDelayMs ?? 5_000) * 2 ** (tries - 1));
  ctx.log.warn({ err: error, tries, nextAt: new Date(nextAt).toISOString() }, "cannot reach the repository; the task waits and tries again");
  await job.updateData({ ...job.data, remoteUnreachableSince: since, remoteTries: tries } satisfies RemoteWait);
  const waitingFor = `git to reach ${data.repo.owner}/${data.repo.name} (${error.message}); next try at ${new Date(nextAt).toISOString()}`;
  const mine = await ctx.store.update(data.taskId, { state: "waiting", waitingFor, agent: null, progress: null }, ["running"], { lease });
  if (mine) await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
  await job.moveToDelayed(nextAt, token);
  throw new DelayedError();
}

/** The repository answered again: a later outage gets a window of its own. */
export async function forgetRemoteWait(job: Job): Promise<void> {
  const wait = job.data as RemoteWait;
  if (wait.remoteUnreachableSince === undefined) return;
  const { remoteUnreachableSince: _since, remoteTries: _tries, ...rest } = job.data as RemoteWait & Record<string, unknown>;
  await job.updateData(rest);
}
