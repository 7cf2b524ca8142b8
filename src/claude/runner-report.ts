import { z } from "zod";
import { runUsageSchema } from "./run-usage.js";

/** The longest a usage-limit reset a runner reports is believed: Claude's weekly limit. */
const MAX_RESET_AHEAD_MS = 7 * 24 * 60 * 60_000;

/**
 * What the Action tells the app about its run beyond the `claude:<state>` label: the run's
 * usage under the runner's name and account, when a usage limit resets, which session-timeout
 * issue a lost login opened. The job has no way into Redis, so it travels as a hidden line of
 * the tracking comment, which the dispatcher reads when the job completes.
 */
export const runnerReportSchema = z.object({
  taskId: z.string().max(300),
  run: z.number().int().min(1),
  /** The runner's name (`RUNNER_NAME`): the usage entry's agent. */
  runner: z.string().min(1).max(200),
  /** The Claude account the runner's login belongs to (the Action's `account` input). */
  account: z.string().min(1).max(200),
  usage: runUsageSchema.optional(),
  /** Epoch ms at which the usage limit Claude reported resets. */
  resetAt: z.number().int().min(0).optional(),
  /** The runner's open session-timeout issue, when its login expired. */
  sessionIssue: z.number().int().min(1).optional(),
});

export type RunnerReport = z.infer<typeof runnerReportSchema>;

const PREFIX = "<!-- claude-code-cluster:runner-report ";
const LINE = /<!-- claude-code-cluster:runner-report ([A-Za-z0-9_-]+) -->/g;

/** The hidden line: base64url JSON, so no text in it (an account name) can end the HTML comment. Pure. */
export function runnerReportLine(report: RunnerReport): string {
  return `${PREFIX}${Buffer.from(JSON.stringify(report), "utf8").toString("base64url")} -->`;
}

/**
 * The report of run `run` of `taskId` in a comment body, if there is one that parses; anything
 * else (another run's, a hand-edited line) is ignored. Pure.
 */
export function readRunnerReport(body: string | null | undefined, taskId: string, run: number): RunnerReport | undefined {
  for (const match of (body ?? "").matchAll(LINE)) {
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(match[1]!, "base64url").toString("utf8"));
    } catch {
      continue;
    }
    const parsed = runnerReportSchema.safeParse(json);
    if (parsed.success && parsed.data.taskId === taskId && parsed.data.run === run) return parsed.data;
  }
  return undefined;
}

/** How long to wait for a reported reset, bounded: now if it passed, at most a week. Pure. */
export function untilReset(resetAt: number, now: number): number {
  return Math.min(Math.max(0, resetAt - now), MAX_RESET_AHEAD_MS);
}
