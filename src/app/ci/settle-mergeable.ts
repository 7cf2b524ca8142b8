import type { GetOctokit } from "../../github/github-client.js";
import { loadRepoConfig } from "../../github/load-repo-config.js";
import type { CiWatch } from "../../queue/ci-watch-queue.js";
import { codeSpan } from "../../reporter/markdown.js";
import { PullRequestChecks } from "../../store/pull-request-checks.js";
import { enqueuePullRequestTask, readPullRequest, type PullRequestEnqueueOutcome } from "../enqueue-pull-request.js";
import type { IntakeDeps } from "../intake-deps.js";
import { watchContext } from "./watch-context.js";

export type MergeableOutcome =
  | { kind: "gone" }
  /** GitHub is still computing whether the PR merges: look again shortly. */
  | { kind: "unknown" }
  /** It merges (or is only behind): nothing to do, no Claude run. */
  | { kind: "clean"; state: string }
  | { kind: "off" }
  | { kind: "duplicate" }
  | { kind: "gave-up"; attempts: number }
  | { kind: "queued"; attempt: number; maxAttempts: number }
  /** Only behind a base the repository wants merged in first: a merge with no Claude run is queued. */
  | { kind: "updating" }
  | { kind: "busy"; outcome: Exclude<PullRequestEnqueueOutcome, { status: "queued" }> }
  | { kind: "config-error" };

/**
 * The base of a cluster pull request moved: once GitHub has computed it, a PR that no longer
 * merges (`mergeable: false`, `mergeable_state: dirty`) gets a bounded conflict task, in which
 * the agent merges the base in and Claude resolves only what git could not. A PR that still
 * merges needs nothing. Bounded by `ciFixAttempts`, counted since the PR last merged cleanly,
 * one task per head and base commit pair.
 */
export async function settleMergeable(deps: IntakeDeps & { getOctokit: GetOctokit }, watch: CiWatch): Promise<MergeableOutcome> {
  const octokit = await deps.getOctokit(watch.installationId);
  const pr = await readPullRequest(octokit, { owner: watch.owner, repo: watch.repo, number: watch.pr });
  if (pr.state !== "open" || pr.merged) return { kind: "gone" };
  if (pr.mergeable === null) return { kind: "unknown" };
  const checks = new PullRequestChecks(deps.redis, deps.prefix);
  const now = (deps.now ?? Date.now)();
  // Behind a base that branch protection wants merged in first: the agent merges it, with no Claude run.
  const behind = pr.mergeable === true && pr.mergeableState === "behind";
  if (!behind && (pr.mergeable || pr.mergeableState !== "dirty")) {
    await checks.mergesCleanly(watch.owner, watch.repo, watch.pr, now);
    return { kind: "clean", state: pr.mergeableState };
  }
  const config = await loadRepoConfig({
    octokit,
    redis: deps.redis,
    prefix: deps.prefix,
    cacheSeconds: deps.configCacheSeconds,
    owner: watch.owner,
    repo: watch.repo,
  });
  if (!config.ok) return { kind: "config-error" };
  if (config.config.ciFixAttempts === 0) return { kind: "off" };
  const ctx = watchContext(watch, octokit, pr, `conflict-${pr.headSha}-${watch.sha}`);
  const request = { ctx, config: config.config, pr, trigger: { kind: "checks" as const }, command: { name: "run" as const } };
  if (behind) {
    // Not a conflict: nothing to count against the attempts. One look per base commit, one update.
    const outcome = await enqueuePullRequestTask(deps, { ...request, conflict: { attempt: 1, maxAttempts: 1, baseSha: watch.sha, behind: true } });
    return outcome.status === "queued" ? { kind: "updating" } : { kind: "busy", outcome };
  }
  const maxAttempts = config.config.ciFixAttempts;
  const claim = await checks.claimConflict(
    watch.owner,
    watch.repo,
    watch.pr,
    { headSha: pr.headSha, baseSha: watch.sha, base: pr.baseBranch },
    { maxAttempts, at: now },
  );
  if (claim.kind === "duplicate") return { kind: "duplicate" };
  const where = { installationId: watch.installationId, owner: watch.owner, repo: watch.repo, issueNumber: pr.number };
  if (claim.kind === "gave-up") {
    const body = `🛑 **Claude stopped resolving conflicts** on this pull request: it still conflicts with ${codeSpan(pr.baseBranch)} after ${claim.attempts} ${claim.attempts === 1 ? "attempt" : "attempts"} (\`ciFixAttempts\` in \`.github/claude-cluster.yml\`). Merge ${codeSpan(pr.baseBranch)} into the branch by hand, or comment \`/claude run merge ${pr.baseBranch} and resolve the conflicts\`.`;
    await deps.events.emit({
      type: "reply",
      ...where,
      body,
      dedupeKey: `conflict-gave-up-${watch.owner}/${watch.repo}#${pr.number}@${pr.headSha}@${watch.sha}`,
    });
    return { kind: "gave-up", attempts: claim.attempts };
  }
  const outcome = await enqueuePullRequestTask(deps, { ...request, conflict: { attempt: claim.attempt, maxAttempts, baseSha: watch.sha } });
  if (outcome.status !== "queued") {
    // Another run is live on the PR: its push makes a new head, looked at when the base moves again.
    await checks.unclaimConflict(watch.owner, watch.repo, watch.pr, now);
    return { kind: "busy", outcome };
  }
  deps.log.info({ repo: `${watch.owner}/${watch.repo}`, pr: pr.number, base: pr.baseBranch, attempt: claim.attempt, maxAttempts }, "conflict task queued");
  return { kind: "queued", attempt: claim.attempt, maxAttempts };
}
