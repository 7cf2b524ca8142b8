import { SpanStatusCode, type Attributes, type Span } from "@opentelemetry/api";
import type { ClaudeRunOutcome } from "./run-claude.js";

/**
 * The "executor run" span of an agent and of the Action alike (docs/observability.md): what is
 * asked of Claude when it starts, what came of it when it ends. Numbers and outcomes only:
 * never the prompt or the transcript.
 */
export function executorAttributes(model: string | undefined, resumed: boolean): Attributes {
  return {
    "ccc.executor": "claude",
    "gen_ai.system": "anthropic",
    "gen_ai.request.model": model ?? "default",
    "ccc.run.resumed": resumed,
  };
}

/** The executor run's outcome on its span: model, cost, tokens, turns, and how it ended. */
export function recordRunOutcome(span: Span, outcome: ClaudeRunOutcome, model: string | undefined): void {
  const result = outcome.result;
  span.setAttributes({
    "ccc.run.outcome": outcome.ok ? "success" : outcome.failure.kind,
    ...(model ? { "gen_ai.response.model": model } : {}),
    ...(result
      ? {
          "ccc.run.cost_usd": result.costUsd,
          "ccc.run.turns": result.turns,
          "ccc.run.duration_ms": result.durationMs,
          ...(result.inputTokens !== undefined ? { "gen_ai.usage.input_tokens": result.inputTokens } : {}),
          ...(result.outputTokens !== undefined ? { "gen_ai.usage.output_tokens": result.outputTokens } : {}),
          ...(result.sessionId ? { "ccc.run.session_id": result.sessionId } : {}),
        }
      : {}),
  });
  if (!outcome.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.failure.kind });
}
