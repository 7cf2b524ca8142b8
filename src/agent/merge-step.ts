import type { ClaudeRunOutcome } from "../claude/run-claude.js";
import type { TaskData } from "../queue/task-data.js";
import type { BaseMerge, PreparedWorktree, Workspace } from "../workspace/workspace.js";

/** A conflict task's merge of its base, and the task as Claude's prompt sees it (the conflicted files named). */
export interface MergeStep {
  merge: BaseMerge | undefined;
  task: TaskData;
}

/**
 * A conflict task merges the PR's base in before any Claude run; other tasks pass through.
 * What git merges alone needs no Claude (`mergedByGit`); only conflicted files go to Claude.
 */
export async function startMerge(workspace: Pick<Workspace, "mergeBase">, data: TaskData, prepared: PreparedWorktree): Promise<MergeStep> {
  if (!data.conflict || !data.pullRequest) return { merge: undefined, task: data };
  const merge = await workspace.mergeBase(prepared, data.pullRequest.baseBranch);
  return { merge, task: merge.kind === "conflicts" ? { ...data, conflict: { ...data.conflict, files: merge.files } } : data };
}

/** A base merged by git alone: no Claude run, no cost, and a summary saying so. */
export function mergedByGit(kind: "merged" | "up-to-date", data: TaskData): ClaudeRunOutcome {
  const base = data.pullRequest?.baseBranch ?? data.repo.defaultBranch;
  const summary =
    kind === "merged"
      ? `Merged \`${base}\` into the branch: git merged it without a conflict, so Claude did not run.`
      : `The branch already has everything on \`${base}\`: nothing to merge.`;
  return { ok: true, result: { summary, costUsd: 0, turns: 0, durationMs: 0 } };
}

/**
 * After Claude's run on a conflict, its resolution is checked, never trusted: the sentence that
 * fails the task when a marker is left in a file it was given, else the merge is committed.
 */
export async function finishMerge(
  workspace: Pick<Workspace, "conflictMarkers" | "commitMerge">,
  dir: string,
  merge: BaseMerge | undefined,
): Promise<string | undefined> {
  if (merge?.kind !== "conflicts") return undefined;
  const left = await workspace.conflictMarkers(dir, merge.files);
  if (left.length > 0) {
    return `conflict markers are still in ${left.join(", ")} after Claude's run, so nothing was pushed. Resolve the conflict by hand, or comment \`/claude run\` on the pull request to have Claude try again.`;
  }
  await workspace.commitMerge(dir);
  return undefined;
}
