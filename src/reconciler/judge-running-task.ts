import type { TaskRecord } from "../queue/task-record.js";

/** What the reconciler saw of a running task's BullMQ job. */
export interface JobView {
  /** BullMQ's `getState()`: active, waiting, prioritized, delayed, completed, failed, unknown… */
  state: string;
  attemptsMade: number;
  failedReason?: string | undefined;
  returnValue?: unknown;
  /** Epoch ms the job completed or failed. */
  finishedOn?: number | undefined;
}

/** How long a pushed task may wait for its PR before the reconciler looks for its `pushed` event. */
export const PUSHED_GRACE_MS = 120_000;

export type RunningVerdict =
  /** A live job stands behind the task. */
  | { kind: "ok" }
  /** The branch was pushed a while ago and the task still waits for its PR: its `pushed` event may be gone. */
  | { kind: "pushed-unreported" }
  /** The job is still locked by an agent whose heartbeat stopped: say so until the lock expires. */
  | { kind: "agent-silent"; message: string }
  /** The job is back on the queue (its agent died or slept): the record follows it. */
  | { kind: "requeued"; message: string }
  /** Nothing will ever run it again: fail it so the issue says so. */
  | { kind: "failed"; message: string };

/**
 * Pure: whether a task recorded as `running` still has a job that will finish it, and if not,
 * what happens to it.
 */
export function judgeRunningTask(input: { task: TaskRecord; job: JobView | undefined; agentAlive: boolean; maxAttempts: number; now: number }): RunningVerdict {
  const { task, job, agentAlive, now } = input;
  const who = task.agent ? `agent \`${task.agent}\`` : "its agent";
  if (!job) return { kind: "failed", message: `its queue job disappeared while ${who} ran it: comment \`/claude retry\` to run it again` };
  switch (job.state) {
    case "active":
      return agentAlive
        ? { kind: "ok" }
        : {
            kind: "agent-silent",
            message: `${who} stopped responding (crashed, or its machine sleeps); the task goes back on the queue when its lock expires`,
          };
    case "waiting":
    case "prioritized":
    case "delayed":
    case "waiting-children":
      return { kind: "requeued", message: `${who} stopped responding mid-run; the task went back on the queue` };
    case "completed":
      // `pushed`: the reporter opens the pull request and ends the task, however long GitHub takes.
      if (job.returnValue === "pushed") return now - (job.finishedOn ?? now) > PUSHED_GRACE_MS ? { kind: "pushed-unreported" } : { kind: "ok" };
      return { kind: "failed", message: `${who}'s run ended without a result the cluster recorded: comment \`/claude retry\` to run it again` };
    case "failed": {
      const stalled = /stalled/i.test(job.failedReason ?? "");
      return {
        kind: "failed",
        message: stalled
          ? `the agents running it stopped responding ${job.attemptsMade + 1} times (crashed, or their machines slept): comment \`/claude retry\` to run it again`
          : `its run failed: ${job.failedReason ?? "unknown error"}`,
      };
    }
    default:
      return { kind: "failed", message: `its queue job is in an unexpected state (${job.state}): comment \`/claude retry\` to run it again` };
  }
}

/**
 * Pure: whether a queued or waiting task still has a job an agent can take. Only asked once the
 * task is older than the app needs to add its job after claiming the record.
 */
export function judgeQueuedTask(job: JobView | undefined): { kind: "ok" } | { kind: "failed"; message: string } {
  if (!job) return { kind: "failed", message: "its queue job disappeared before an agent took it: comment `/claude retry` to queue it again" };
  if (job.state === "failed") return { kind: "failed", message: `its run failed: ${job.failedReason ?? "unknown error"}` };
  if (job.state === "completed")
    return { kind: "failed", message: "its queue job ended without a result the cluster recorded: comment `/claude retry` to run it again" };
  return { kind: "ok" };
}
