import { fetchChecks } from "../../github/fetch-checks.js";
import type { GetOctokit } from "../../github/github-client.js";
import { judgeChecks } from "../../github/judge-checks.js";
import { loadRepoConfig } from "../../github/load-repo-config.js";
import type { CiWatch } from "../../queue/ci-watch-queue.js";
import { PullRequestChecks } from "../../store/pull-request-checks.js";
import { CI_FAILED_LABEL } from "../../reporter/render-ci-gave-up.js";
import { readPullRequest } from "../enqueue-pull-request.js";
import type { IntakeDeps } from "../intake-deps.js";
import { watchContext } from "./watch-context.js";
import { fixRedChecks, type CiFixOutcome } from "./fix-red-checks.js";

export type SettleOutcome =
  /** The pull request was closed or merged meanwhile. */
  | { kind: "gone" }
  /** A newer commit is the head now: its own checks decide. */
  | { kind: "not-head"; headSha: string }
  /** Some check still runs (or none reported yet): look again later. */
  | { kind: "pending"; waitingOn: string[] }
  | { kind: "none" }
  | { kind: "green" }
  | { kind: "red"; fix: CiFixOutcome }
  /** The repository's config does not parse: nothing is started on a broken config. */
  | { kind: "config-error" };

/**
 * Looks at a cluster pull request's head commit once its checks went quiet: closed PRs and
 * commits that are no longer the head are let go; running checks are waited for; green resets
 * the CI-fix count; red hands over to `fixRedChecks`. GitHub is only read here.
 */
export async function settleChecks(deps: IntakeDeps & { getOctokit: GetOctokit }, watch: CiWatch): Promise<SettleOutcome> {
  const octokit = await deps.getOctokit(watch.installationId);
  const pr = await readPullRequest(octokit, { owner: watch.owner, repo: watch.repo, number: watch.pr });
  if (pr.state !== "open" || pr.merged) return { kind: "gone" };
  if (pr.headSha !== watch.sha) return { kind: "not-head", headSha: pr.headSha };
  const { runs, statuses } = await fetchChecks(octokit, watch);
  const verdict = judgeChecks(runs, statuses);
  const checks = new PullRequestChecks(deps.redis, deps.prefix);
  const now = (deps.now ?? Date.now)();
  switch (verdict.kind) {
    case "pending":
      return { kind: "pending", waitingOn: verdict.waitingOn };
    case "none":
      return { kind: "none" };
    case "green": {
      const before = await checks.get(watch.owner, watch.repo, watch.pr);
      await checks.settled(watch.owner, watch.repo, watch.pr, "green", [], now);
      if (before?.state === "gave-up") {
        await deps.events.emit({
          type: "labels",
          installationId: watch.installationId,
          owner: watch.owner,
          repo: watch.repo,
          issueNumber: watch.pr,
          add: [],
          remove: [CI_FAILED_LABEL],
        });
      }
      return { kind: "green" };
    }
    case "red": {
      const config = await loadRepoConfig({
        octokit,
        redis: deps.redis,
        prefix: deps.prefix,
        cacheSeconds: deps.configCacheSeconds,
        owner: watch.owner,
        repo: watch.repo,
      });
      if (!config.ok) {
        deps.log.warn(
          { repo: `${watch.owner}/${watch.repo}`, pr: watch.pr, problems: config.problems },
          "red checks left alone: the repository's config does not parse",
        );
        return { kind: "config-error" };
      }
      const ctx = watchContext(watch, octokit, pr, `checks-${watch.sha}`);
      const fix = await fixRedChecks(deps, {
        ctx,
        config: config.config,
        pr,
        sha: watch.sha,
        failed: { runs: verdict.failedRuns, statuses: verdict.failedStatuses },
      });
      return { kind: "red", fix };
    }
  }
}
