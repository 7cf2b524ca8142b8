/** Colour and cursor codes (CSI), titles and hyperlinks (OSC), and other two-byte escapes that tools print. */
// eslint-disable-next-line no-control-regex -- escape sequences are what this removes
const ANSI = /\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)?|\u001B[@-Z\\-_]/g;
// eslint-disable-next-line no-control-regex -- control characters other than tab and newline
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F]/g;

/**
 * Program output (a test run, a CI job's log) as the lines a terminal would have shown: escape
 * codes stripped, a line redrawn with carriage returns (a progress bar) kept as its last state,
 * other control characters dropped, trailing spaces cut. Pure.
 */
export function terminalLines(raw: string): string[] {
  return raw
    .replace(ANSI, "")
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) =>
      line
        .slice(line.lastIndexOf("\r") + 1)
        .replace(CONTROLS, "")
        .trimEnd(),
    );
}

/** How much of the end of some output is kept. */
export interface TailLimits {
  /** Most lines, counted from the end. */
  lines: number;
  /** Most characters, newlines included. */
  chars: number;
}

/**
 * The last lines within both limits, where a failing program writes why; blank lines at the end
 * do not count. Cut at a line boundary, never half a line at the top, except for one line longer
 * than the whole budget (a minified bundle, a JSON dump), whose end is kept, marked `…`. Pure.
 */
export function lastLines(lines: readonly string[], limits: TailLimits): string {
  let end = lines.length;
  while (end > 0 && lines[end - 1] === "") end--;
  const kept: string[] = [];
  let size = 0;
  for (let i = end - 1; i >= 0 && kept.length < limits.lines; i--) {
    const line = lines[i]!;
    if (size + line.length + (kept.length > 0 ? 1 : 0) > limits.chars) {
      if (kept.length === 0) kept.push(`…${line.slice(-(limits.chars - 1))}`);
      break;
    }
    kept.unshift(line);
    size += line.length + (kept.length > 1 ? 1 : 0);
  }
  return kept.join("\n");
}
