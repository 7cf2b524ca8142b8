import type { runClaude } from "../claude/run-claude.js";
import type { ClaudeFailure } from "../claude/classify-failure.js";
import type { Logger } from "../shared/logger.js";

export type LoginProbe = { ok: true; usageLimit?: ClaudeFailure } | { ok: false; failure: ClaudeFailure };

/**
 * Asks Claude for one word. A missing or expired login answers at once without touching the
 * network; a working one costs one tiny request. Anything but an auth failure counts as
 * logged in: a network blip must not park an agent as if its session had expired.
 */
export async function probeLogin(run: typeof runClaude, options: { bin: string; cwd: string; log: Logger }): Promise<LoginProbe> {
  const outcome = await run({
    bin: options.bin,
    prompt: "Reply with the single word OK.",
    cwd: options.cwd,
    maxTurns: 1,
    permissionMode: "default",
    allowedTools: [],
    timeoutMs: 60_000,
    log: options.log,
  });
  if (outcome.ok) return { ok: true };
  if (outcome.failure.kind === "session-expired") return { ok: false, failure: outcome.failure };
  if (outcome.failure.kind === "usage-limit") return { ok: true, usageLimit: outcome.failure };
  options.log.warn({ kind: outcome.failure.kind, message: outcome.failure.message }, "login probe inconclusive; assuming logged in");
  return { ok: true };
}
