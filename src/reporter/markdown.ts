/**
 * Making text from issues, Claude and CLI output safe to place in a comment we write.
 * Inline values must not open markup that swallows the rest of the comment (an unclosed
 * backtick, `<!--`, `<details>`), close our hidden marker (`-->`) or ping people (`@team`).
 */

/** Cuts to at most `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

/** One line of plain text: no markup, no HTML, no mentions. */
export function inlineText(text: string, max = 300): string {
  return truncate(text.replace(/\s+/g, " ").trim(), max)
    // Entities first, so the backslash escapes below never precede an entity.
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]|~]/g, "\\$&")
    .replace(/@(?=[A-Za-z0-9])/g, "@\u200b");
}

/** A code span for names and paths (`Edit src/a.ts`); fenced long enough for any backticks inside. */
export function codeSpan(text: string, max = 120): string {
  const value = truncate(text.replace(/\s+/g, " ").trim(), max);
  const longestRun = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  const pad = value.startsWith("`") || value.endsWith("`") ? " " : "";
  return `${fence}${pad}${value}${pad}${fence}`;
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

/**
 * Markdown written by Claude (an answer, a PR summary), kept as markdown but contained:
 * cut at a line boundary, raw HTML outside code neutralised, and an unclosed code fence
 * closed, so nothing after it in our comment turns into code.
 */
export function markdownBlock(text: string, max: number): string {
  let body = text.trim();
  if (body.length > max) {
    const cut = body.lastIndexOf("\n", max);
    body = `${body.slice(0, cut > max / 2 ? cut : max).trimEnd()}\n\n…(truncated)`;
  }
  let openFence: string | undefined;
  const lines = body.split("\n").map((line) => {
    const fence = FENCE.exec(line)?.[1];
    if (fence !== undefined) {
      if (openFence === undefined) openFence = fence;
      else if (fence[0] === openFence[0] && fence.length >= openFence.length) openFence = undefined;
      return line;
    }
    return openFence === undefined ? escapeHtmlOutsideCodeSpans(line) : line;
  });
  if (openFence !== undefined) lines.push(openFence);
  return lines.join("\n");
}

/** `<` outside inline code becomes `&lt;`; inside a code span it already shows literally. */
function escapeHtmlOutsideCodeSpans(line: string): string {
  return line
    .split(/(`+[^`]*`+)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/</g, "&lt;")))
    .join("");
}

/** A link only to an http(s) URL with nothing that could end the link early. */
export function safeLink(label: string, url: string | undefined): string {
  if (url === undefined || !/^https?:\/\/[^\s()<>[\]]+$/.test(url)) return label;
  return `[${label}](${url})`;
}
