import { CommanderError } from "commander";
import { ConfigError } from "../config/env-error.js";
import { ExitCode } from "./exit-code.js";

export interface Explained {
  code: ExitCode;
  /** For stderr; absent when commander has printed its own. */
  message?: string;
}

/** How `ccc` ends on an error that reached the top: the exit code and what to tell the user. */
export function explainError(error: unknown): Explained {
  // Help and --version end parsing this way too, with exit code 0; the rest is bad usage.
  if (error instanceof CommanderError) return { code: error.exitCode === 0 ? ExitCode.ok : ExitCode.usage };
  if (error instanceof ConfigError) return { code: ExitCode.usage, message: `ccc: ${error.message}` };
  const { code, message, stack } = error instanceof Error ? (error as Error & { code?: unknown }) : { code: undefined, message: String(error), stack: undefined };
  // Errors we raise on purpose carry a code and a message that names the fix; anything else is a bug.
  return { code: ExitCode.failed, message: code ? `ccc: ${message}` : `ccc: unexpected error: ${stack ?? message}` };
}
