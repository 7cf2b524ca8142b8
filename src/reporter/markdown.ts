import { redactSecrets } from "../shared/redact.js";
import { outboundInline, outboundText, type OutboundTarget } from "./outbound.js";

/**
 * Making text from issues, Claude and CLI output safe to place in a comment we write.
 * Inline values must not open markup that swallows the rest of the comment (an unclosed
 * backtick, `<!--`, `<details>`), close our hidden marker (`-->`) or ping people (`@team`).
 * Claude's and the CLI's words also go through the outbound filter (`outbound.ts`): pass the
 * task's `OutboundTarget`.
 */

/** Cuts to at most `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

/**
 * One line of plain text: no markup, no HTML, no mentions. With a target (text from Claude, the
 * CLI or git), also no secrets, no foreign links and no references to other issues.
 */
export function inlineText(text: string, max = 300, target?: OutboundTarget): string {
  // Secrets before the cut, so that half a token is never left to show.
  const line = truncate((target ? redactSecrets(text) : text).replace(/\s+/g, " ").trim(), max);
  return target ? outboundInline(line, target, escapeInline) : escapeInline(line);
}

function escapeInline(text: string): string {
  return (
    text
      // Entities first, so the backslash escapes below never precede an entity.
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/[\\`*_[\]|~]/g, "\\$&")
      .replace(/@(?=[A-Za-z0-9])/g, "@\u200b")
  );
}

/** A code span for names and paths (`Edit src/a.ts`); fenced long enough for any backticks inside. */
export function codeSpan(text: string, max = 120): string {
  const value = truncate(text.replace(/\s+/g, " ").trim(), max);
  const longestRun = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  const pad = value.startsWith("`") || value.endsWith("`") ? " " : "";
  return `${fence}${pad}${value}${pad}${fence}`;
}

/** A fence opener (a backtick fence's info string holds no backtick) and a closer, as GitHub reads them. */
const FENCE_OPENER = /^ {0,3}(?:(`{3,})[^`]*|(~{3,}).*)$/;
const FENCE_CLOSER = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;

/**
 * Markdown written by Claude (an answer, a PR summary), kept as markdown but contained: secrets
 * redacted, cut at a line boundary, then the outbound filter (raw HTML, foreign images and
 * links, mentions and other issues' references neutralised), and an unclosed code fence
 * closed, so nothing after it in our comment turns into code.
 */
export function markdownBlock(text: string, max: number, target: OutboundTarget): string {
  // Cut before filtering: a cut inside a code span must leave its tail as prose the filter sees.
  let body = redactSecrets(text).trim();
  if (body.length > max) {
    const cut = body.lastIndexOf("\n", max);
    body = `${body.slice(0, cut > max / 2 ? cut : max).trimEnd()}\n\n…(truncated)`;
  }
  let openFence: string | undefined;
  const lines = outboundText(body, target).split("\n");
  for (const line of lines) {
    if (openFence === undefined) {
      const opener = FENCE_OPENER.exec(line);
      openFence = opener ? (opener[1] ?? opener[2]) : undefined;
    } else {
      const closer = FENCE_CLOSER.exec(line)?.[1];
      if (closer !== undefined && closer[0] === openFence[0] && closer.length >= openFence.length) openFence = undefined;
    }
  }
  if (openFence !== undefined) lines.push(openFence);
  return lines.join("\n");
}

/** A link only to an http(s) URL with nothing that could end the link early. */
export function safeLink(label: string, url: string | undefined): string {
  if (url === undefined || !/^https?:\/\/[^\s()<>[\]]+$/.test(url)) return label;
  return `[${label}](${url})`;
}
