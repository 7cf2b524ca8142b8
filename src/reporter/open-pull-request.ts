import type { TaskRecord } from "../queue/task-record.js";
import type { Logger } from "../shared/logger.js";
import type { GitHubClient } from "./github-client.js";
import { httpStatus } from "./github-errors.js";
import { renderPullRequestBody } from "./render-pull-request-body.js";

export interface OpenedPullRequest {
  number: number;
  url: string;
  /** False when an open PR for the branch existed and was reused. */
  created: boolean;
}

/**
 * Opens the task's pull request, or reuses the open one for its branch (a retry, a rerun
 * that pushed to the same branch, or a replay of this event) and refreshes its body.
 */
export async function openPullRequest(octokit: GitHubClient, record: TaskRecord, log: Logger): Promise<OpenedPullRequest> {
  const repo = { owner: record.owner, repo: record.repo };
  const body = renderPullRequestBody(record);
  const { data: open } = await octokit.rest.pulls.list({
    ...repo,
    head: `${record.owner}:${record.branch}`,
    state: "open",
    per_page: 1,
  });
  const existing = open[0];
  if (existing) {
    await octokit.rest.pulls.update({ ...repo, pull_number: existing.number, body });
    return { number: existing.number, url: existing.html_url, created: false };
  }

  const request = { ...repo, title: record.title, head: record.branch, base: record.baseBranch, body };
  try {
    const { data } = await octokit.rest.pulls.create({ ...request, draft: record.draftPullRequest });
    return { number: data.number, url: data.html_url, created: true };
  } catch (error) {
    // Draft PRs are unavailable on some plans (422); a ready PR beats no PR.
    if (!record.draftPullRequest || httpStatus(error) !== 422 || !/draft/i.test(String(error))) throw error;
    log.warn("draft pull requests are not supported here; opening a ready one");
    const { data } = await octokit.rest.pulls.create(request);
    return { number: data.number, url: data.html_url, created: true };
  }
}
