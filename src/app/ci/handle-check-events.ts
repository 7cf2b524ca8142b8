import type { Context } from "probot";
import { CiWatchQueue } from "../../queue/ci-watch-queue.js";
import { PullRequestChecks } from "../../store/pull-request-checks.js";
import type { IntakeDeps } from "../intake-deps.js";

/** The quiet time after a check event before the app looks at the commit's checks. */
export const DEFAULT_CI_SETTLE_MS = 20_000;

type CheckEvent = Context<"check_suite.completed"> | Context<"check_run.completed"> | Context<"status">;

/**
 * `check_suite.completed`, `check_run.completed` and `status`: a check of some commit finished.
 * Only a commit the cluster pushed to a pull request it opened is looked at (the sha index the
 * reporter writes), so a person's commits, other PRs and forks cost one Redis read and start
 * nothing. The look itself waits until the commit's checks are quiet (`CiWatchQueue.watch`):
 * the suite, run and status events GitHub sends for one red commit make one look, one task.
 */
export async function handleCheckEvent(deps: IntakeDeps, context: CheckEvent): Promise<void> {
  const { payload } = context;
  const sha = "check_suite" in payload ? payload.check_suite.head_sha : "check_run" in payload ? payload.check_run.head_sha : payload.sha;
  // A status still pending says nothing new; its completion will.
  if ("state" in payload && payload.state === "pending") return;
  const installationId = payload.installation?.id;
  if (installationId === undefined) return;
  const owner = payload.repository.owner.login;
  const repo = payload.repository.name;
  const pr = await new PullRequestChecks(deps.redis, deps.prefix).pullRequestOf(owner, repo, sha);
  if (pr === undefined) return;
  deps.ciWatch ??= new CiWatchQueue({ connection: deps.redis, prefix: deps.prefix });
  await deps.ciWatch.watch({ owner, repo, pr, sha, installationId, since: (deps.now ?? Date.now)() }, deps.ciSettleMs ?? DEFAULT_CI_SETTLE_MS);
  deps.log.debug({ deliveryId: context.id, event: context.name, repo: `${owner}/${repo}`, pr, sha }, "check event: the commit's checks will be looked at");
}
