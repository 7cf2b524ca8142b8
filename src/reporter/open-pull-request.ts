import type { TaskRecord } from "../queue/task-record.js";
import type { Logger } from "../shared/logger.js";
import type { GitHubClient } from "../github/github-client.js";
import { httpStatus, isPullRequestExists } from "../github/github-errors.js";
import { renderPullRequestBody } from "./render-pull-request-body.js";

export interface OpenedPullRequest {
  number: number;
  url: string;
  /** GitHub's global id of the PR (`node_id`), which GraphQL mutations such as auto-merge take. */
  nodeId: string;
  /** False when an open PR for the branch existed and was reused. */
  created: boolean;
}

type CreateParams = Parameters<GitHubClient["rest"]["pulls"]["create"]>[0] & {};

/**
 * Opens the task's pull request, or reuses the open one for its branch (a retry, a rerun
 * that pushed to the same branch, or a replay of this event) and refreshes its body.
 */
export async function openPullRequest(octokit: GitHubClient, record: TaskRecord, log: Logger): Promise<OpenedPullRequest> {
  const repo = { owner: record.owner, repo: record.repo };
  const body = renderPullRequestBody(record);
  const reuse = async (existing: { number: number; html_url: string; node_id: string }): Promise<OpenedPullRequest> => {
    await octokit.rest.pulls.update({ ...repo, pull_number: existing.number, body });
    return { number: existing.number, url: existing.html_url, nodeId: existing.node_id, created: false };
  };
  const existing = await findOpenPullRequest(octokit, record);
  if (existing) return reuse(existing);

  const create = async (params: CreateParams): Promise<OpenedPullRequest> => {
    try {
      const { data } = await octokit.rest.pulls.create(params);
      return { number: data.number, url: data.html_url, nodeId: data.node_id, created: true };
    } catch (error) {
      if (!isPullRequestExists(error)) throw error;
      // Our earlier create landed though its answer was lost, or GitHub listed it late: adopt it.
      const found = await findOpenPullRequest(octokit, record);
      if (!found) throw new Error(`GitHub says a pull request for ${record.owner}:${record.branch} exists but does not list it yet`, { cause: error });
      log.info({ prNumber: found.number }, "adopting the open pull request GitHub says exists for the branch");
      return reuse(found);
    }
  };
  const request = { ...repo, title: record.title, head: record.branch, base: record.baseBranch, body };
  try {
    return await create({ ...request, draft: record.draftPullRequest });
  } catch (error) {
    // Draft PRs are unavailable on some plans (422); a ready PR beats no PR.
    if (!record.draftPullRequest || httpStatus(error) !== 422 || !/draft/i.test(String(error))) throw error;
    log.warn("draft pull requests are not supported here; opening a ready one");
    return create(request);
  }
}

async function findOpenPullRequest(octokit: GitHubClient, record: TaskRecord) {
  const { data } = await octokit.rest.pulls.list({
    owner: record.owner,
    repo: record.repo,
    head: `${record.owner}:${record.branch}`,
    state: "open",
    per_page: 1,
  });
  return data[0];
}
