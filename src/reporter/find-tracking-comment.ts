import type { TaskRecord } from "../queue/task-record.js";
import type { GitHubClient } from "../github/github-client.js";
import { trackingMarker } from "./render-tracking-comment.js";

/**
 * The task's tracking comment on the issue, found by its hidden marker: a comment by a bot
 * that starts with it (a person quoting it does not count).
 */
export async function findTrackingComment(
  octokit: GitHubClient,
  record: Pick<TaskRecord, "owner" | "repo" | "issueNumber" | "taskId">,
): Promise<number | undefined> {
  const marker = trackingMarker(record.taskId);
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: record.owner,
    repo: record.repo,
    issue_number: record.issueNumber,
    per_page: 100,
  });
  return comments.find((comment) => comment.user?.type === "Bot" && comment.body?.startsWith(marker))?.id;
}
