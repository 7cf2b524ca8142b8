import type { Context } from "probot";
import { firstDelivery } from "../queue/delivery-dedupe.js";
import type { IntakeDeps } from "./intake-deps.js";
import { recordPullRequestFate, reopenPullRequest } from "./record-pull-request-fate.js";
import { cancelTask } from "../control/cancel-task.js";
import { formatTaskId } from "../shared/task-id.js";
import { PullRequestChecks } from "../store/pull-request-checks.js";
import { onBlockerClosed } from "./check-dependencies.js";

/**
 * A pull request was merged or closed: the task that opened it learns its fate, and Claude's
 * live work on the PR itself (review feedback, queued, scheduled or running) is cancelled, as
 * closing an issue cancels its task: nobody wants commits on a closed pull request. Issues
 * that named the pull request as a blocker (`Depends on #pr`) are checked again, as for an issue.
 */
export async function handlePullRequestClosed(deps: IntakeDeps, context: Context<"pull_request.closed">): Promise<void> {
  const { payload } = context;
  const pull = payload.pull_request;
  if (!(await firstDelivery(deps.redis, deps.prefix, context.id))) return;
  const closedAt = Date.parse(pull.closed_at ?? "") || (deps.now ?? Date.now)();
  await recordPullRequestFate(
    deps,
    {
      owner: payload.repository.owner.login,
      repo: payload.repository.name,
      number: pull.number,
      merged: pull.merged === true,
      openedAt: Date.parse(pull.created_at) || closedAt,
      at: (pull.merged_at ? Date.parse(pull.merged_at) : NaN) || closedAt,
    },
    deps.log.child({ deliveryId: context.id }),
  );
  const taskId = formatTaskId({ owner: payload.repository.owner.login, repo: payload.repository.name, number: pull.number });
  // A closed pull request's base may move as it likes: no more conflict looks.
  await new PullRequestChecks(deps.redis, deps.prefix).closed(payload.repository.owner.login, payload.repository.name, pull.number);
  await cancelTask(deps, taskId, `@${payload.sender.login} (pull request ${pull.merged === true ? "merged" : "closed"})`);
  const getOctokit = deps.getOctokit ?? (async () => context.octokit);
  await onBlockerClosed({ ...deps, getOctokit }, { owner: payload.repository.owner.login, repo: payload.repository.name, number: pull.number });
}

/** A closed pull request was reopened: its task is `pr-open` again and its closing no longer counts. */
export async function handlePullRequestReopened(deps: IntakeDeps, context: Context<"pull_request.reopened">): Promise<void> {
  const { payload } = context;
  if (!(await firstDelivery(deps.redis, deps.prefix, context.id))) return;
  await reopenPullRequest(
    deps,
    { owner: payload.repository.owner.login, repo: payload.repository.name, number: payload.pull_request.number },
    deps.log.child({ deliveryId: context.id }),
  );
}
