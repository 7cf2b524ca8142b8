import type { Context } from "probot";
import { CiWatchQueue } from "../../queue/ci-watch-queue.js";
import { PullRequestChecks } from "../../store/pull-request-checks.js";
import type { IntakeDeps } from "../intake-deps.js";
import { DEFAULT_CI_SETTLE_MS } from "./handle-check-events.js";

/**
 * `push` to a branch that open cluster pull requests target: each of them gets a look at its
 * mergeability (GitHub computes it a moment after the push). Pushes to any other branch cost
 * one Redis read and start nothing.
 */
export async function handlePush(deps: IntakeDeps, context: Context<"push">): Promise<void> {
  const { payload } = context;
  if (payload.deleted || !payload.ref.startsWith("refs/heads/")) return;
  const branch = payload.ref.slice("refs/heads/".length);
  const installationId = payload.installation?.id;
  const owner = payload.repository.owner?.login ?? payload.repository.full_name.split("/")[0]!;
  const repo = payload.repository.name;
  if (installationId === undefined) return;
  const open = await new PullRequestChecks(deps.redis, deps.prefix).openPullRequests(owner, repo);
  const targeting = [...open].filter(([, base]) => base === branch).map(([pr]) => pr);
  if (targeting.length === 0) return;
  deps.ciWatch ??= new CiWatchQueue({ connection: deps.redis, prefix: deps.prefix });
  const since = (deps.now ?? Date.now)();
  for (const pr of targeting) {
    await deps.ciWatch.watch({ kind: "mergeable", owner, repo, pr, sha: payload.after, installationId, since }, deps.ciSettleMs ?? DEFAULT_CI_SETTLE_MS);
  }
  deps.log.info(
    { deliveryId: context.id, repo: `${owner}/${repo}`, branch, pullRequests: targeting },
    "base branch moved: the cluster's pull requests on it will be checked for conflicts",
  );
}
