import type { TaskRecord } from "../../../src/queue/task-record.js";
import type { GitHubClient } from "../../../src/reporter/github-client.js";
import { renderTrackingComment, trackingMarker } from "../../../src/reporter/render-tracking-comment.js";
import { syncLabels } from "../../../src/reporter/sync-labels.js";

/**
 * Brings the issue in line with the record, as the app's reporter does for daemon tasks: one
 * `claude:<state>` label, and the one tracking comment (found by its hidden marker, so the
 * comment the app wrote while the task was queued is the one edited). Returns the comment id.
 */
export async function reportTask(octokit: GitHubClient, record: TaskRecord, now: number): Promise<number> {
  await syncLabels(octokit, record);
  const body = renderTrackingComment(record, now);
  const repo = { owner: record.owner, repo: record.repo };
  const commentId = record.commentId ?? (await findTrackingComment(octokit, record));
  if (commentId !== undefined) {
    await octokit.rest.issues.updateComment({ ...repo, comment_id: commentId, body });
    return commentId;
  }
  const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: record.issueNumber, body });
  return data.id;
}

/** A bot's comment on the issue that starts with the task's marker (a quote of it by a person does not count). */
async function findTrackingComment(octokit: GitHubClient, record: TaskRecord): Promise<number | undefined> {
  const marker = trackingMarker(record.taskId);
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: record.owner,
    repo: record.repo,
    issue_number: record.issueNumber,
    per_page: 100,
  });
  return comments.find((comment) => comment.user?.type === "Bot" && comment.body?.startsWith(marker))?.id;
}
