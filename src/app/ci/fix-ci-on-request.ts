import type { RepoConfig } from "../../config/repo-config.js";
import { fetchChecks } from "../../github/fetch-checks.js";
import { judgeChecks } from "../../github/judge-checks.js";
import type { PullRequestInfo } from "../enqueue-pull-request.js";
import type { IntakeDeps } from "../intake-deps.js";
import type { IssueContext } from "../issue-context.js";
import { pullRequestOutcomeReply } from "../pull-request-outcome-reply.js";
import { fixRedChecks } from "./fix-red-checks.js";

export interface FixCiRequest {
  ctx: IssueContext;
  config: RepoConfig;
  pr: PullRequestInfo;
  trigger: { kind: "comment"; commentId: number } | { kind: "review"; reviewId: number };
  instructions?: string;
}

/**
 * `/claude fix-ci` on a pull request, from a person with write access: the head commit's red
 * checks become a CI-fix task whoever pushed the commit, and the attempts count starts again.
 * Returns the reply; an empty string when the task was queued (its tracking comment speaks).
 */
export async function fixCiOnRequest(deps: IntakeDeps, request: FixCiRequest): Promise<string> {
  const { ctx, pr } = request;
  const short = pr.headSha.slice(0, 7);
  const { runs, statuses } = await fetchChecks(ctx.octokit, { owner: ctx.owner, repo: ctx.repo, sha: pr.headSha });
  const verdict = judgeChecks(runs, statuses);
  switch (verdict.kind) {
    case "none":
      return `The head commit \`${short}\` has no checks: there is no CI to fix. Nothing was queued.`;
    case "green":
      return `Every check passes on the head commit \`${short}\`: there is nothing to fix. Nothing was queued.`;
    case "pending":
      return `Checks still run on the head commit \`${short}\` (${verdict.waitingOn.slice(0, 5).join(", ")}). Comment \`/claude fix-ci\` again once they finish. Nothing was queued.`;
    case "red":
      break;
  }
  const outcome = await fixRedChecks(deps, {
    ctx,
    config: request.config,
    pr,
    sha: pr.headSha,
    failed: { runs: verdict.failedRuns, statuses: verdict.failedStatuses },
    asked: { trigger: request.trigger, ...(request.instructions ? { instructions: request.instructions } : {}) },
  });
  switch (outcome.status) {
    case "busy":
      return pullRequestOutcomeReply(outcome.outcome) ?? "";
    case "queued":
    default:
      return "";
  }
}
