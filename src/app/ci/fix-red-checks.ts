import type { RepoConfig } from "../../config/repo-config.js";
import { fetchCiFailures } from "../../github/fetch-ci-failures.js";
import type { CheckRunState, CommitStatusState } from "../../github/judge-checks.js";
import { CI_FAILED_LABEL, renderCiGaveUp } from "../../reporter/render-ci-gave-up.js";
import { PullRequestChecks } from "../../store/pull-request-checks.js";
import { enqueuePullRequestTask, type PullRequestEnqueueOutcome, type PullRequestInfo } from "../enqueue-pull-request.js";
import type { IntakeDeps } from "../intake-deps.js";
import type { IssueContext } from "../issue-context.js";

export interface RedChecks {
  ctx: IssueContext;
  config: RepoConfig;
  pr: PullRequestInfo;
  /** The red head commit. */
  sha: string;
  failed: { runs: readonly CheckRunState[]; statuses: readonly CommitStatusState[] };
  /** A person asked (`/claude fix-ci`): the count starts again, whoever pushed the commit. */
  asked?: { trigger: { kind: "comment"; commentId: number } | { kind: "review"; reviewId: number }; instructions?: string };
}

export type CiFixOutcome =
  /** `ciFixAttempts: 0`: red checks are left to people. */
  | { status: "off" }
  /** This head commit was acted on already. */
  | { status: "duplicate" }
  /** The attempts ran out: the PR was told, once. */
  | { status: "gave-up"; attempts: number }
  | { status: "queued"; attempt: number; maxAttempts: number; taskId: string }
  /** Another run is live on the pull request or its branch: its push will be looked at in turn. */
  | { status: "busy"; outcome: Exclude<PullRequestEnqueueOutcome, { status: "queued" }> };

/**
 * Red checks on a cluster pull request's head: the next bounded CI-fix attempt on its branch,
 * with each failure's output, annotations and log tail in the prompt, or, once the attempts are
 * spent, one comment naming the failing checks and the label `claude:ci-failed`. One task per
 * head commit however many events reported it (`PullRequestChecks.claimFix`).
 */
export async function fixRedChecks(deps: IntakeDeps, red: RedChecks): Promise<CiFixOutcome> {
  const { ctx, config, pr, sha } = red;
  const checks = new PullRequestChecks(deps.redis, deps.prefix);
  const now = (deps.now ?? Date.now)();
  const failing = [...red.failed.runs.map((run) => run.name), ...red.failed.statuses.map((status) => status.context)];
  if (config.ciFixAttempts === 0 && !red.asked) {
    await checks.settled(ctx.owner, ctx.repo, pr.number, "red", failing, now);
    return { status: "off" };
  }
  // A person may ask even where the repository turned the fixes off: one attempt, then.
  const maxAttempts = Math.max(1, config.ciFixAttempts);
  const claim = await checks.claimFix(ctx.owner, ctx.repo, pr.number, sha, { maxAttempts, asked: red.asked !== undefined, failing, at: now });
  if (claim.kind === "duplicate") return { status: "duplicate" };

  const gathered = await fetchCiFailures(ctx.octokit, { owner: ctx.owner, repo: ctx.repo }, red.failed);
  if (claim.kind === "gave-up") {
    const where = { installationId: ctx.installationId, owner: ctx.owner, repo: ctx.repo, issueNumber: pr.number };
    await deps.events.emit({
      type: "reply",
      ...where,
      body: renderCiGaveUp({ ...ctx, number: pr.number }, claim.attempts, gathered.checks),
      dedupeKey: `ci-gave-up-${ctx.owner}/${ctx.repo}#${pr.number}@${sha}`,
    });
    await deps.events.emit({
      type: "labels",
      ...where,
      add: [CI_FAILED_LABEL],
      remove: [],
      dedupeKey: `ci-failed-label-${ctx.owner}/${ctx.repo}#${pr.number}@${sha}`,
    });
    deps.log.info(
      { repo: `${ctx.owner}/${ctx.repo}`, pr: pr.number, sha, failing, attempts: claim.attempts },
      "CI-fix attempts spent: the pull request was told",
    );
    return { status: "gave-up", attempts: claim.attempts };
  }

  const outcome = await enqueuePullRequestTask(deps, {
    ctx,
    config,
    pr,
    trigger: red.asked?.trigger ?? { kind: "checks" },
    command: { name: "fix-ci", ...(red.asked?.instructions ? { instructions: red.asked.instructions } : {}) },
    ciFix: { attempt: claim.attempt, maxAttempts, headSha: sha, checks: gathered.checks, omitted: gathered.omitted },
  });
  if (outcome.status !== "queued") {
    await checks.unclaim(ctx.owner, ctx.repo, pr.number, now);
    return { status: "busy", outcome };
  }
  // A person asked again after a give-up: Claude is on it, the label no longer says where things stand.
  if (red.asked)
    await deps.events.emit({
      type: "labels",
      installationId: ctx.installationId,
      owner: ctx.owner,
      repo: ctx.repo,
      issueNumber: pr.number,
      add: [],
      remove: [CI_FAILED_LABEL],
    });
  deps.log.info({ repo: `${ctx.owner}/${ctx.repo}`, pr: pr.number, sha, failing, attempt: claim.attempt, maxAttempts }, "CI-fix task queued");
  return { status: "queued", attempt: claim.attempt, maxAttempts, taskId: outcome.taskId };
}
