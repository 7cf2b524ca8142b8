import type { Context } from "probot";
import { formatTaskId } from "../../shared/task-id.js";
import { PullRequestChecks } from "../../store/pull-request-checks.js";
import { PullRequestIndex } from "../../store/pull-request-index.js";
import { publishPullRequestCi } from "../../store/publish-pull-request-ci.js";
import type { IntakeDeps } from "../intake-deps.js";

/**
 * `pull_request.synchronize`: the branch of a pull request moved. On a cluster PR, a head the
 * cluster did not push (no task of the PR's records it as `pushedSha`, which an agent writes
 * before it pushes) is a person's commit: the PR no longer counts as merged with no human
 * commit, and its red checks are left to people until someone asks.
 */
export async function handleSynchronize(deps: IntakeDeps, context: Context<"pull_request.synchronize">): Promise<void> {
  const { payload } = context;
  const owner = payload.repository.owner.login;
  const repo = payload.repository.name;
  const pr = payload.pull_request.number;
  const checks = new PullRequestChecks(deps.redis, deps.prefix);
  if (!(await checks.get(owner, repo, pr))) return;
  const sha = payload.after;
  if ((await checks.pullRequestOf(owner, repo, sha)) === pr) return;
  const opener = await new PullRequestIndex(deps.redis, deps.prefix).lookup(owner, repo, pr);
  for (const taskId of [opener, formatTaskId({ owner, repo, number: pr })]) {
    if (taskId !== undefined && (await deps.store.get(taskId))?.pushedSha === sha) return;
  }
  await checks.noteHumanCommit(owner, repo, pr, (deps.now ?? Date.now)());
  deps.log.info({ deliveryId: context.id, repo: `${owner}/${repo}`, pr, sha }, "a person pushed to the cluster's pull request");
  await publishPullRequestCi(deps, owner, repo, pr);
}
