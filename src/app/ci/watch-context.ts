import type { GitHubClient } from "../../github/github-client.js";
import type { CiWatch } from "../../queue/ci-watch-queue.js";
import type { PullRequestInfo } from "../enqueue-pull-request.js";
import type { IssueContext } from "../issue-context.js";

/**
 * A task the app starts by itself on a pull request (a CI fix, a conflict run) seen as the
 * handlers see a delivery: the PR is the "issue", the actor is `ci`, and `deliveryId` names what
 * started it, for the logs.
 */
export function watchContext(watch: CiWatch, octokit: GitHubClient, pr: PullRequestInfo, deliveryId: string): IssueContext {
  return {
    octokit,
    deliveryId,
    installationId: watch.installationId,
    owner: watch.owner,
    repo: watch.repo,
    cloneUrl: pr.cloneUrl ?? `https://github.com/${watch.owner}/${watch.repo}.git`,
    defaultBranch: pr.defaultBranch ?? pr.baseBranch,
    issue: { number: pr.number, title: pr.title, body: pr.body, url: pr.url, author: pr.author, labels: [], comments: 0 },
    actor: "ci",
  };
}
