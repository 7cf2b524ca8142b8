import type { Logger } from "../shared/logger.js";
import type { TaskData } from "../queue/task-data.js";
import type { PreparedWorktree } from "../workspace/workspace.js";
import { pushWithRetry } from "./push-with-retry.js";
import { branchMoved, isBranchMoved } from "./run-endings.js";
import type { TaskContext } from "./task-context.js";

/**
 * Pushes the run's branch, never forcing, trying again through an outage of the remote within
 * `--git-retry-minutes` while the issue says what holds the finished work up. A PR task's branch
 * that moved meanwhile ends the task (`branchMoved`): nothing is overwritten.
 */
export async function pushStep(ctx: TaskContext, data: TaskData, prepared: PreparedWorktree, signal: AbortSignal, log: Logger, lease: string): Promise<void> {
  const own = { lease };
  let pushBlocked = false;
  await pushWithRetry(() => ctx.workspace.push(prepared), {
    windowMs: ctx.options.gitRetryMinutes * 60_000,
    ...ctx.pushRetry,
    signal,
    log,
    onRetry: async (error, nextAt) => {
      pushBlocked = true;
      const waitingFor = `the push of ${data.branch} to go through (${error.message}); next try at ${new Date(nextAt).toISOString()}`;
      if (await ctx.store.update(data.taskId, { waitingFor }, ["running"], own)) await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
    },
  }).catch((error: unknown) => (data.pullRequest && isBranchMoved(error) ? branchMoved(ctx, data, lease) : Promise.reject(error)));
  if (pushBlocked) await ctx.store.update(data.taskId, { waitingFor: null }, ["running"], own);
}
