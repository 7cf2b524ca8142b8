import { UnrecoverableError, WaitingError, type Job } from "bullmq";
import type { ClaudeFailure } from "../claude/classify-failure.js";
import { STOPPED_WAITING_FOR } from "../control/control-blocker.js";
import type { TaskData } from "../queue/task-data.js";
import { TASK_ATTEMPTS } from "../queue/task-queues.js";
import { PushError } from "../workspace/errors.js";
import type { AbortReason, TaskContext } from "./task-context.js";

/** How a task's run ends when it does not push: what the record says, and what BullMQ does with the job. */
export type TaskEnd = "pushed" | "no-changes" | "skipped" | "cancelled";

/** git refused the push because the remote branch has commits the run did not start from. */
export function isBranchMoved(error: unknown): boolean {
  return error instanceof PushError && /non-fast-forward|fetch first|\[rejected\]/i.test(error.stderr);
}

/**
 * Someone pushed to the pull request's branch while Claude worked. Its commits are never
 * overwritten (no force push) nor merged behind the reviewers' backs: the task fails, saying so.
 */
export async function branchMoved(ctx: TaskContext, data: TaskData, lease: string): Promise<never> {
  const message = `the pull request's branch ${data.branch} moved on origin while Claude worked (someone pushed to it), so Claude's commits were not pushed: nothing was overwritten. Comment \`/claude run\` on the pull request again to work from its new tip.`;
  if (!(await ctx.store.update(data.taskId, { state: "failed", failure: { kind: "push", message }, finishedAt: ctx.now() }, ["running"], { lease })))
    return stale(ctx, data);
  await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
  throw new UnrecoverableError(message);
}

/**
 * The task was handed on while this run went on (its machine slept past the lock): leave the
 * record and the job alone. WaitingError tells BullMQ not to move a job it no longer holds.
 */
export function stale(ctx: TaskContext, data: TaskData): never {
  ctx.log.warn({ taskId: data.taskId, run: data.run }, "stale run discarded: the task was handed on while this agent was away");
  throw new WaitingError();
}

export async function aborted(ctx: TaskContext, job: Job, token: string | undefined, data: TaskData, reason: AbortReason, lease: string): Promise<TaskEnd> {
  if (reason === "cancelled") return "cancelled";
  if (reason === "lost") return stale(ctx, data);
  // Shutdown or emergency stop: back on the queue, no attempt spent. After a shutdown another
  // agent may take it at once; after a stop nobody does until the cluster is resumed.
  const patch =
    reason === "stop"
      ? { state: "waiting" as const, waitingFor: STOPPED_WAITING_FOR, agent: null, progress: null }
      : { state: "queued" as const, agent: null, progress: null };
  if (!(await ctx.store.update(data.taskId, patch, ["running"], { lease }))) return stale(ctx, data);
  await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
  await job.moveToWait(token);
  throw new WaitingError();
}

export async function failed(
  ctx: TaskContext,
  job: Job,
  token: string | undefined,
  data: TaskData,
  attempt: number,
  failure: ClaudeFailure,
  lease: string,
): Promise<TaskEnd> {
  const taskFailure = { kind: failure.kind, message: failure.message };
  if (failure.kind === "usage-limit" || failure.kind === "session-expired") {
    // Not the task's fault: back on the queue for an agent that can run it, no attempt spent.
    let waitingFor: string;
    if (failure.kind === "usage-limit") {
      const until = await ctx.onUsageLimit(failure);
      waitingFor = `the usage limit to reset at ${new Date(until).toISOString()} (${ctx.options.name}, account ${ctx.options.account})`;
    } else {
      await ctx.onSessionExpired(failure, data);
      waitingFor = `a new Claude login on ${ctx.options.name} (${failure.message})`;
    }
    if (!(await ctx.store.update(data.taskId, { state: "waiting", waitingFor, failure: taskFailure, agent: null, progress: null }, ["running"], { lease })))
      return stale(ctx, data);
    await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
    await job.moveToWait(token);
    throw new WaitingError();
  }
  const retry = failure.retryable && attempt < TASK_ATTEMPTS;
  const mine = await ctx.store.update(
    data.taskId,
    retry ? { state: "queued", failure: taskFailure, agent: null } : { state: "failed", failure: taskFailure, finishedAt: ctx.now() },
    ["running"],
    { lease },
  );
  if (!mine) return stale(ctx, data);
  await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
  if (retry) throw new Error(`${failure.kind}: ${failure.message}`);
  throw new UnrecoverableError(`${failure.kind}: ${failure.message}`);
}
