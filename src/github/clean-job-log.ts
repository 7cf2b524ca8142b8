import { redactSecrets } from "../shared/redact.js";
import { lastLines, terminalLines } from "../shared/terminal-lines.js";

/** The runner's timestamp at the start of each line of a GitHub Actions job log. */
const TIMESTAMP = /^\uFEFF?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?/;
/**
 * The runner's own markers: `##[group]Run npm test` keeps its title, `##[endgroup]` goes, and
 * `##[error]`/`##[warning]` read as the words GitHub shows for them.
 */
const GROUP_END = /^##\[endgroup\]\s*$/;
const MARKER = /^##\[(\w+)\]/;
const MARKER_WORDS: Record<string, string> = { error: "Error: ", warning: "Warning: ", notice: "Notice: " };

export interface JobLogLimits {
  /** Most lines kept, counted from the end. @defaultValue 80 */
  lines?: number;
  /** Most characters kept, counted from the end. @defaultValue 6000 */
  chars?: number;
}

/**
 * The last lines of a GitHub Actions job log, as Claude (and a person) should read them: the
 * runner's timestamps, colour codes, carriage-return redraws and group markers stripped, secrets
 * redacted, and capped from the end, where a failing step writes why (`lastLines`). Pure.
 */
export function cleanJobLog(raw: string, limits: JobLogLimits = {}): string {
  // Escape codes and redraws go first (terminalLines): a redrawn line's timestamp goes with its earlier states.
  const lines = terminalLines(redactSecrets(raw))
    .map((line) => line.replace(TIMESTAMP, ""))
    .filter((line) => !GROUP_END.test(line))
    .map((line) => line.replace(MARKER, (_, name: string) => MARKER_WORDS[name] ?? ""));
  return lastLines(lines, { lines: limits.lines ?? 80, chars: limits.chars ?? 6000 });
}
