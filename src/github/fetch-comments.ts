import type { TaskData } from "../queue/task-data.js";
import type { GitHubClient } from "./github-client.js";

/** Enough context for Claude without letting a long thread crowd out the issue itself. */
const MAX_COMMENTS = 50;

/**
 * Human comments on the issue up to and including the trigger, oldest first. Comments
 * written after the trigger are not part of what the maintainer asked for; bot comments
 * (the tracking comment among them) are noise.
 */
export async function fetchCommentsUpTo(
  octokit: GitHubClient,
  params: { owner: string; repo: string; issueNumber: number; untilCommentId?: number },
): Promise<TaskData["comments"]> {
  const all = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: params.owner,
    repo: params.repo,
    issue_number: params.issueNumber,
    per_page: 100,
  });
  const upTo = params.untilCommentId === undefined ? all : all.filter((c) => c.id <= params.untilCommentId!);
  return upTo
    .filter((c) => c.user?.type !== "Bot")
    .slice(-MAX_COMMENTS)
    .map((c) => ({ author: c.user?.login ?? "ghost", body: c.body ?? "", createdAt: c.created_at }));
}
