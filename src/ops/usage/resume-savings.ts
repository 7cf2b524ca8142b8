import type { UsageEntry } from "../../store/usage-store.js";

/**
 * What resumed sessions saved over the entries given (the last 7 days). A task's *first attempt*
 * is its earliest run that started Claude afresh and reported tokens; each resumed run that
 * reported tokens, of a task with a first attempt, saved that attempt's tokens minus its own
 * (negative when the resume cost more). Resumed runs of tasks whose first attempt reported no
 * tokens (a crash or timeout before the result line) are counted, not compared.
 */
export interface ResumeSavings {
  /** Runs that continued an earlier session. */
  resumedRuns: number;
  /** Of those, the runs compared with their task's first attempt. */
  compared: number;
  /** Σ over compared runs: first attempt's input tokens − the resumed run's. */
  savedInputTokens: number;
  /** Σ over compared runs: first attempt's output tokens − the resumed run's. */
  savedOutputTokens: number;
  /** Σ of the compared runs' own tokens, and of their tasks' first attempts, for the ratio. */
  resumedInputTokens: number;
  firstAttemptInputTokens: number;
}

/** Sums the savings of resumed runs. Entries in any order. Pure. */
export function resumeSavings(entries: readonly UsageEntry[]): ResumeSavings {
  const sorted = [...entries].sort((a, b) => a.at - b.at);
  const first = new Map<string, UsageEntry>();
  for (const entry of sorted) {
    if (entry.resumed !== true && entry.inputTokens !== undefined && !first.has(entry.taskId)) first.set(entry.taskId, entry);
  }
  const savings: ResumeSavings = { resumedRuns: 0, compared: 0, savedInputTokens: 0, savedOutputTokens: 0, resumedInputTokens: 0, firstAttemptInputTokens: 0 };
  for (const entry of sorted) {
    if (entry.resumed !== true) continue;
    savings.resumedRuns += 1;
    const baseline = first.get(entry.taskId);
    if (!baseline || baseline.at > entry.at || entry.inputTokens === undefined) continue;
    savings.compared += 1;
    savings.savedInputTokens += (baseline.inputTokens ?? 0) - entry.inputTokens;
    savings.savedOutputTokens += (baseline.outputTokens ?? 0) - (entry.outputTokens ?? 0);
    savings.resumedInputTokens += entry.inputTokens;
    savings.firstAttemptInputTokens += baseline.inputTokens ?? 0;
  }
  return savings;
}
