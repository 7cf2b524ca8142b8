import { redactSecrets } from "../shared/redact.js";
import { lastLines, terminalLines, type TailLimits } from "../shared/terminal-lines.js";

/** What the PR body and the tracking comment show; the task record keeps this much. */
export const REPORT_TAIL: TailLimits = { lines: 40, chars: 4_000 };
/** What Claude gets to fix a failure with: more, but still bounded like any user text. */
export const PROMPT_TAIL: TailLimits = { lines: 200, chars: 16_000 };

/**
 * The last lines of a test command's output as a terminal would have shown them, secrets
 * redacted first (test output may print the environment, or a config with a token in it), so
 * that no cut leaves half a token to show. Pure.
 */
export function testOutputTail(raw: string, limits: TailLimits): string {
  return lastLines(terminalLines(redactSecrets(raw)), limits);
}
