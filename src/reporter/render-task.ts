import type { TaskStore } from "../queue/task-store.js";
import type { Logger } from "../shared/logger.js";
import type { GetOctokit } from "../github/github-client.js";
import { renderTrackingComment } from "./render-tracking-comment.js";
import { syncLabels } from "./sync-labels.js";
import { upsertTrackingComment } from "./upsert-tracking-comment.js";

export interface RenderTaskDeps {
  store: TaskStore;
  getOctokit: GetOctokit;
  log: Logger;
  now: number;
  coalesceMs: number;
}

export type RenderOutcome =
  | { kind: "up-to-date" }
  | { kind: "rendered" }
  /** The comment was edited less than `coalesceMs` ago: render again at `until`. */
  | { kind: "deferred"; until: number };

/**
 * Brings the issue in line with the task record: the state label at once (it changes only
 * with the state), the tracking comment at most once per `coalesceMs`. The caller holds the
 * task lock. Reads the record fresh, so which event triggered it does not matter.
 */
export async function renderTask(deps: RenderTaskDeps, taskId: string): Promise<RenderOutcome> {
  const { store, log, now } = deps;
  const record = await store.get(taskId);
  if (!record) return { kind: "up-to-date" };
  const needsLabel = record.labelState !== record.state;
  const needsComment = (record.renderedVersion ?? 0) < record.version;
  if (!needsLabel && !needsComment) return { kind: "up-to-date" };

  const octokit = await deps.getOctokit(record.installationId);
  if (needsLabel) {
    const removed = await syncLabels(octokit, record);
    // Marks of the run this render read: a run queued meanwhile renders itself in full.
    await store.annotate(taskId, { labelState: record.state }, { run: record.run });
    log.debug({ state: record.state, removed }, "state label set");
  }
  if (!needsComment) return { kind: "rendered" };

  if (record.lastEditAt !== undefined && now - record.lastEditAt < deps.coalesceMs) {
    return { kind: "deferred", until: record.lastEditAt + deps.coalesceMs };
  }
  const body = renderTrackingComment(record, now);
  const commentId = await upsertTrackingComment({ octokit, store, log, now }, record, body);
  // The version read above, not the current one: a change made meanwhile still gets rendered.
  // Only on the run rendered: a new run drops the marks, and its changes are all to show.
  await store.annotate(taskId, { renderedVersion: record.version, lastEditAt: now }, { run: record.run });
  log.debug({ commentId, version: record.version }, "tracking comment rendered");
  return { kind: "rendered" };
}
