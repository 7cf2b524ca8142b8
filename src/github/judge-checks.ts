/** A check run of a commit, as the app reads it from GitHub. */
export interface CheckRunState {
  id: number;
  name: string;
  /** `queued`, `in_progress`, `completed`, … */
  status: string;
  /** Set once completed: `success`, `failure`, `timed_out`, `cancelled`, `skipped`, `neutral`, … */
  conclusion: string | null;
  url?: string;
  /** The app that created it: `github-actions` for a workflow job. */
  appSlug?: string;
  output: { title?: string; summary?: string; text?: string };
}

/** A commit status (the older Statuses API), one per context, as the combined status lists them. */
export interface CommitStatusState {
  context: string;
  /** `pending`, `success`, `failure`, `error`. */
  state: string;
  description?: string;
  url?: string;
}

/** The checks of one commit, settled or not. */
export type ChecksVerdict =
  /** Some check has not finished: wait. `failing` are the ones already red. */
  | { kind: "pending"; waitingOn: string[]; failing: string[] }
  | { kind: "green" }
  /** Every check finished and these failed. */
  | { kind: "red"; failedRuns: CheckRunState[]; failedStatuses: CommitStatusState[] }
  /** The commit has no checks at all. */
  | { kind: "none" };

/**
 * Conclusions that mean the code is wrong. `cancelled` is not one (a newer run or a person
 * cancelled it), nor `stale`, `skipped` or `neutral`.
 */
const FAILED = new Set(["failure", "timed_out", "action_required", "startup_failure"]);
const FAILED_STATUS = new Set(["failure", "error"]);

/** Whether a commit's checks have settled, and if so which failed. Pure. */
export function judgeChecks(runs: readonly CheckRunState[], statuses: readonly CommitStatusState[]): ChecksVerdict {
  if (runs.length === 0 && statuses.length === 0) return { kind: "none" };
  const failedRuns = runs.filter((run) => run.status === "completed" && run.conclusion !== null && FAILED.has(run.conclusion));
  const failedStatuses = statuses.filter((status) => FAILED_STATUS.has(status.state));
  const waitingOn = [
    ...runs.filter((run) => run.status !== "completed").map((run) => run.name),
    ...statuses.filter((status) => status.state === "pending").map((status) => status.context),
  ];
  if (waitingOn.length > 0) return { kind: "pending", waitingOn, failing: [...failedRuns.map((r) => r.name), ...failedStatuses.map((s) => s.context)] };
  if (failedRuns.length === 0 && failedStatuses.length === 0) return { kind: "green" };
  return { kind: "red", failedRuns, failedStatuses };
}
