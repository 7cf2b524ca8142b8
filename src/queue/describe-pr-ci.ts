import type { TaskPrCi } from "./task-record.js";

/**
 * Where a pull request's CI and mergeability stand, in one line: "CI red: `unit-tests`; fixing,
 * attempt 1 of 3 · merges cleanly". `name` formats a check's name (a code span in Markdown,
 * as is in a terminal). Pure.
 */
export function describePrCi(ci: TaskPrCi, name: (check: string) => string = (check) => check): string {
  const failing =
    ci.failing.length > 0 ? `: ${ci.failing.slice(0, 5).map(name).join(", ")}${ci.failing.length > 5 ? ` and ${ci.failing.length - 5} more` : ""}` : "";
  const of = (attempts: number, max: number | undefined) => `attempt ${attempts}${max !== undefined ? ` of ${max}` : ""}`;
  const checks = {
    pending: "CI running",
    green: "CI green",
    red: `CI red${failing}`,
    fixing: `CI red${failing}; Claude is fixing it, ${of(ci.attempts, ci.maxAttempts)}`,
    "gave-up": `CI red${failing}; Claude gave up after ${ci.attempts} ${ci.attempts === 1 ? "attempt" : "attempts"}`,
  }[ci.state];
  const merge =
    ci.conflict === undefined
      ? undefined
      : {
          clean: "merges cleanly",
          conflict: "conflicts with its base",
          resolving: `conflicts with its base; Claude is merging it, ${of(ci.conflictAttempts ?? 1, ci.conflictMaxAttempts)}`,
          "gave-up": "conflicts with its base; Claude gave up",
        }[ci.conflict];
  return merge ? `${checks} · ${merge}` : checks;
}
