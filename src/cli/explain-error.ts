import { CommanderError } from "commander";
import { UserFacingError } from "../shared/user-facing-error.js";
import { ExitCode } from "./exit-code.js";

export interface Explained {
  code: ExitCode;
  /** One line for stderr; absent when there is nothing more to say (help or the version was printed). */
  message?: string;
}

/** Commander's ends that are not errors: help (`ccc` alone prints it on stderr) and --version. */
const PRINTED = new Set(["commander.help", "commander.helpDisplayed", "commander.version"]);

/**
 * How `ccc` ends on an error that reached the top: the exit code and what to tell the user.
 * `helpHint` is the command that shows the right usage, e.g. `ccc tasks --help`.
 */
export function explainError(error: unknown, helpHint = "ccc --help"): Explained {
  if (error instanceof CommanderError) {
    const code = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    if (PRINTED.has(error.code)) return { code };
    // Commander's own text, one line: "error: unknown command 'x'\n(Did you mean y?)" has two.
    const text = error.message
      .replace(/^error: /, "")
      .replace(/\s*\n\s*/g, " ")
      .trim();
    return { code, message: `ccc: ${text}${/[.?!)]$/.test(text) ? "" : "."} See \`${helpHint}\`.` };
  }
  // Errors raised on purpose name the fix in one line (ConfigError exits 2, bad usage).
  if (error instanceof UserFacingError) return { code: error.exitCode, message: `ccc: ${error.userMessage}` };
  // Anything else is a bug: its stack is what a report needs.
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: ExitCode.failed, message: `ccc: unexpected error: ${text}` };
}
