import { z } from "zod";

/**
 * Lifecycle of a task: queued → running → pr-open | no-changes | failed, with `waiting`
 * possible from queued or running and `cancelled` from any non-final state. An issue that
 * waits for other issues to close starts `blocked` (no queue job yet) and goes on to `queued`
 * when the last one closes, or to `failed` when its blockers form a cycle. A task at
 * `pr-open` goes on to `merged` or `closed` when its pull request is (closed → merged too,
 * for a PR reopened and then merged). Exactly one `claude:<state>` label is on the issue at a time.
 */
export const TASK_STATES = ["queued", "running", "waiting", "blocked", "pr-open", "merged", "closed", "no-changes", "failed", "cancelled"] as const;
export const taskStateSchema = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof taskStateSchema>;

export const FINAL_STATES: readonly TaskState[] = ["pr-open", "merged", "closed", "no-changes", "failed", "cancelled"];
/** One live task per issue: a blocked task counts, though it has no queue job until it is released. */
export const LIVE_STATES: readonly TaskState[] = ["blocked", "queued", "running", "waiting"];

export function isFinal(state: TaskState): boolean {
  return FINAL_STATES.includes(state);
}

/** The issue label that shows a state. */
export function stateLabel(state: TaskState): string {
  return `claude:${state}`;
}

export const STATE_LABELS: readonly string[] = TASK_STATES.map(stateLabel);
