import { redactSecrets } from "../shared/redact.js";

/** The runner's timestamp at the start of each line of a GitHub Actions job log. */
const TIMESTAMP = /^\uFEFF?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?/;
/** Colour and cursor codes (CSI) and terminal titles (OSC) that tools print in CI. */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
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
 * redacted, and capped from the end, where a failing step writes why. Pure.
 */
export function cleanJobLog(raw: string, limits: JobLogLimits = {}): string {
  const maxLines = limits.lines ?? 80;
  const maxChars = limits.chars ?? 6000;
  const lines: string[] = [];
  for (const rawLine of raw.split(/\r?\n/)) {
    let line = rawLine.replace(TIMESTAMP, "").replace(ANSI, "");
    // A progress bar redraws its line with `\r`: what a terminal shows is the last redraw.
    if (line.includes("\r")) line = line.slice(line.lastIndexOf("\r") + 1);
    if (GROUP_END.test(line)) continue;
    lines.push(line.replace(MARKER, (_, name: string) => MARKER_WORDS[name] ?? "").trimEnd());
  }
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  let tail = lines.slice(-maxLines).join("\n");
  if (tail.length > maxChars) tail = tail.slice(tail.length - maxChars).replace(/^[^\n]*\n/, "");
  return redactSecrets(tail);
}
