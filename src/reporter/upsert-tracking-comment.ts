import type { TaskRecord } from "../queue/task-record.js";
import type { TaskStore } from "../queue/task-store.js";
import type { Logger } from "../shared/logger.js";
import { findTrackingComment } from "./find-tracking-comment.js";
import type { GitHubClient } from "../github/github-client.js";
import { isGone } from "../github/github-errors.js";

export interface UpsertTrackingCommentDeps {
  octokit: GitHubClient;
  store: TaskStore;
  log: Logger;
  now: number;
}

/**
 * Writes the task's one tracking comment: edits it in place when it exists, creates it
 * otherwise (first render, or a human deleted it). The caller holds the task lock. Returns
 * the comment id, already stored on the record.
 */
export async function upsertTrackingComment(deps: UpsertTrackingCommentDeps, record: TaskRecord, body: string): Promise<number> {
  const { octokit, store, log } = deps;
  const repo = { owner: record.owner, repo: record.repo };
  if (record.commentId !== undefined) {
    try {
      await octokit.rest.issues.updateComment({ ...repo, comment_id: record.commentId, body });
      return record.commentId;
    } catch (error) {
      if (!isGone(error)) throw error;
      log.info({ commentId: record.commentId }, "tracking comment was deleted; creating a new one");
    }
  }

  if (record.commentCreateStartedAt !== undefined) {
    // An earlier create failed from where we stood; GitHub may have written it anyway.
    const found = await findTrackingComment(octokit, record);
    if (found !== undefined) {
      log.info({ commentId: found }, "adopting a tracking comment from an earlier create");
      await octokit.rest.issues.updateComment({ ...repo, comment_id: found, body });
      await store.annotate(record.taskId, { commentId: found, commentCreateStartedAt: null });
      return found;
    }
  }

  await store.annotate(record.taskId, { commentCreateStartedAt: deps.now });
  const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: record.issueNumber, body });
  // Stored before anything else can fail, so a retry edits this comment instead of adding one.
  await store.annotate(record.taskId, { commentId: data.id, commentCreateStartedAt: null });
  return data.id;
}
