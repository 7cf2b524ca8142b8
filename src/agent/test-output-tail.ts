import { redactSecrets } from "../shared/redact.js";

/** The end of a test command's output that is kept: its last lines, at most this many characters. */
export interface TailLimits {
  lines: number;
  chars: number;
}

/** What the PR body and the tracking comment show; the task record keeps this much. */
export const REPORT_TAIL: TailLimits = { lines: 40, chars: 4_000 };
/** What Claude gets to fix a failure with: more, but still bounded like any user text. */
export const PROMPT_TAIL: TailLimits = { lines: 200, chars: 16_000 };

/** CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks) and other two-byte escapes. */
// eslint-disable-next-line no-control-regex -- escape sequences are what this removes
const ANSI = /\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)?|\u001B[@-Z\\-_]/g;
// eslint-disable-next-line no-control-regex -- control characters other than tab and newline
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F]/g;

/**
 * The last lines of a test command's output as a terminal would have shown them: escape codes
 * stripped, a line rewritten with carriage returns (progress bars) kept as its last state,
 * other control characters dropped, secrets redacted (test output may print the environment or
 * a config with a token), then cut to `limits` from the end, at a line boundary. Pure.
 */
export function testOutputTail(raw: string, limits: TailLimits): string {
  const lines = redactSecrets(raw.replace(ANSI, ""))
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) =>
      line
        .slice(line.lastIndexOf("\r") + 1)
        .replace(CONTROLS, "")
        .trimEnd(),
    );
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  const kept: string[] = [];
  let size = 0;
  for (const line of lines.toReversed()) {
    if (kept.length >= limits.lines) break;
    if (size + line.length + 1 > limits.chars) {
      // One line longer than the whole budget (a minified bundle, a JSON dump): keep its end.
      if (kept.length === 0) kept.push(`…${line.slice(-(limits.chars - 1))}`);
      break;
    }
    kept.unshift(line);
    size += line.length + 1;
  }
  return kept.join("\n");
}
