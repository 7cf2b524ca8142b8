import { z } from "zod";
import type { ClaudeRunOutcome } from "./run-claude.js";

/** What one Claude run cost and how it ended: a usage entry without who ran it and when. */
export const runUsageSchema = z.object({
  costUsd: z.number().min(0),
  turns: z.number().int().min(0),
  durationMs: z.number().min(0),
  /** `success` or a failure kind. */
  outcome: z.string().max(40),
  inputTokens: z.number().int().min(0).optional(),
  outputTokens: z.number().int().min(0).optional(),
});

export type RunUsage = z.infer<typeof runUsageSchema>;

/**
 * The usage of a run that reached the API (failed or not: every such run costs something);
 * undefined when Claude never answered. Agents record it under their name and account; the
 * Action reports it for the dispatcher to record under the runner's. Pure.
 */
export function runUsage(outcome: ClaudeRunOutcome): RunUsage | undefined {
  const result = outcome.result;
  if (!result) return undefined;
  return {
    costUsd: result.costUsd,
    turns: result.turns,
    durationMs: result.durationMs,
    ...(result.inputTokens !== undefined ? { inputTokens: result.inputTokens } : {}),
    ...(result.outputTokens !== undefined ? { outputTokens: result.outputTokens } : {}),
    outcome: outcome.ok ? "success" : outcome.failure.kind,
  };
}
