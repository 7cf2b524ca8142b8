import type { TaskRecord } from "../../../src/queue/task-record.js";
import { findTrackingComment } from "../../../src/reporter/find-tracking-comment.js";
import type { GitHubClient } from "../../../src/github/github-client.js";
import { renderTrackingComment } from "../../../src/reporter/render-tracking-comment.js";
import { syncLabels } from "../../../src/reporter/sync-labels.js";

/**
 * Brings the issue in line with the record, as the app's reporter does for daemon tasks: one
 * `claude:<state>` label, and the one tracking comment (found by its hidden marker, so the
 * comment the app wrote while the task was queued is the one edited). Returns the comment id.
 */
export async function reportTask(octokit: GitHubClient, record: TaskRecord, now: number, hidden?: string): Promise<number> {
  // A progress edit leaves the labels alone: the state has not changed since the last report.
  if (record.labelState === undefined || record.labelState !== record.state) await syncLabels(octokit, record);
  // `hidden`: the runner's report to the app (runner-report.ts), a line GitHub does not show.
  const body =
    hidden === undefined
      ? renderTrackingComment(record, now)
      : `${renderTrackingComment(record, now)}

${hidden}`;
  const repo = { owner: record.owner, repo: record.repo };
  const commentId = record.commentId ?? (await findTrackingComment(octokit, record));
  if (commentId !== undefined) {
    await octokit.rest.issues.updateComment({ ...repo, comment_id: commentId, body });
    return commentId;
  }
  const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: record.issueNumber, body });
  return data.id;
}
