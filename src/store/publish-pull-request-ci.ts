import type { EventQueue } from "../queue/event-queue.js";
import type { TaskStore } from "../queue/task-store.js";
import type { TaskPrCi } from "../queue/task-record.js";
import { formatTaskId } from "../shared/task-id.js";
import { PullRequestChecks } from "./pull-request-checks.js";
import { PullRequestIndex } from "./pull-request-index.js";
import type { RedisClient } from "../shared/redis-client.js";

export interface PublishDeps {
  redis: RedisClient;
  prefix: string;
  store: TaskStore;
  events: EventQueue;
}

/**
 * Copies where a cluster pull request's checks and mergeability stand onto the task that opened
 * it and the PR's own task (`prCi`), and asks the reporter to draw them: the tracking comments,
 * `/claude status`, `ccc tasks`, the API and the dashboard all read the record.
 */
export async function publishPullRequestCi(deps: PublishDeps, owner: string, repo: string, pr: number): Promise<void> {
  const prCi = await pullRequestCi(deps, owner, repo, pr);
  if (!prCi) return;
  const opener = await new PullRequestIndex(deps.redis, deps.prefix).lookup(owner, repo, pr);
  for (const taskId of new Set([opener, formatTaskId({ owner, repo, number: pr })])) {
    if (taskId === undefined) continue;
    const record = await deps.store.get(taskId);
    if (!record || (record.prNumber !== pr && record.pullRequest?.number !== pr)) continue;
    // Unchanged: no new version, no render.
    if (JSON.stringify(record.prCi) === JSON.stringify(prCi)) continue;
    if (await deps.store.update(taskId, { prCi }, undefined, { run: record.run })) await deps.events.emit({ type: "task-changed", taskId });
  }
}

/** The PR's checks and mergeability as a task record holds them (`prCi`); undefined for a PR the cluster does not follow. */
export async function pullRequestCi(deps: Pick<PublishDeps, "redis" | "prefix">, owner: string, repo: string, pr: number): Promise<TaskPrCi | undefined> {
  const state = await new PullRequestChecks(deps.redis, deps.prefix).get(owner, repo, pr);
  if (!state) return undefined;
  return {
    state: state.state,
    failing: state.failing,
    attempts: state.attempts,
    ...(state.maxAttempts !== undefined ? { maxAttempts: state.maxAttempts } : {}),
    ...(state.conflictState ? { conflict: state.conflictState } : {}),
    ...(state.conflictAttempts !== undefined ? { conflictAttempts: state.conflictAttempts } : {}),
    ...(state.conflictMaxAttempts !== undefined ? { conflictMaxAttempts: state.conflictMaxAttempts } : {}),
  };
}
