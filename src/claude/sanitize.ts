import { redactSecrets } from "../shared/redact.js";

/**
 * Cleans issue and comment text before it goes into Claude's prompt. GitHub renders much
 * less than the raw markdown holds, and whatever a reader cannot see is where a prompt
 * injection hides: HTML comments, hidden elements, zero-width and bidi characters, Unicode
 * "tag" characters, alt text and link titles. Modelled on claude-code-action's sanitizer.
 * Visible markdown (headings, lists, code, links, <details>) is kept as written.
 */
export function sanitizeUserText(text: string): string {
  let out = text.replace(/\r\n?/g, "\n");
  out = stripHtmlComments(out);
  out = stripHiddenElements(out);
  out = stripHiddenAttributes(out);
  out = decodeNumericEntities(out);
  out = stripInvisibleCharacters(out);
  out = out.replace(/!\[[^\]\n]*\]\(/g, "![]("); // image alt text is not shown inline
  out = out.replace(/(\[[^\]\n]*\]\([^)\s]+)\s+("[^"\n]*"|'[^'\n]*')\)/g, "$1)"); // link titles show only on hover
  return redactSecrets(out);
}

/** `<!-- … -->`; an unclosed `<!--` hides the rest of the text on GitHub, so it goes too. */
export function stripHtmlComments(text: string): string {
  return text.replace(/<!--[\s\S]*?(-->|$)/g, "");
}

export function stripInvisibleCharacters(text: string): string {
  return (
    text
      // C0/C1 controls except tab and newline; soft hyphen; Arabic letter mark; Mongolian vowel separator.
      // eslint-disable-next-line no-control-regex -- control characters are what this removes
      .replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u180E]/g, "")
      // Zero-width spaces/joiners, LRM/RLM, bidi embeddings and isolates, word joiner and invisible operators, BOM.
      .replace(/[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/g, "")
      .replace(/[\u2028\u2029]/g, "\n")
      // Unicode tag characters (invisible ASCII smuggling) and variation selectors 17-256.
      // eslint-disable-next-line no-misleading-character-class -- a range of lone selectors, matched per code point (u flag)
      .replace(/[\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}]/gu, "")
  );
}

/** An element GitHub would not display: `hidden`, or styled away. */
const HIDDEN_OPEN_TAG =
  /<([a-zA-Z][a-zA-Z0-9-]*)(?=[^>]*?(?:\shidden(?:[\s=>/]|$)|style\s*=\s*["'][^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])|opacity\s*:\s*0(?![.\d]))))[^>]*>/i;

const VOID_ELEMENTS = new Set(["area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]);

/** Removes hidden elements with everything inside them, counting nested tags of the same name. */
export function stripHiddenElements(text: string): string {
  let out = text;
  for (let guard = 0; guard < 1000; guard++) {
    const open = HIDDEN_OPEN_TAG.exec(out);
    if (!open) return out;
    const tag = open[1]!.toLowerCase();
    const start = open.index;
    const afterOpen = start + open[0].length;
    if (VOID_ELEMENTS.has(tag) || open[0].endsWith("/>")) {
      out = out.slice(0, start) + out.slice(afterOpen);
      continue;
    }
    out = out.slice(0, start) + out.slice(closingEnd(out, tag, afterOpen));
  }
  return out;
}

/** Index just past the tag that closes the element opened before `from`; end of text if unclosed. */
function closingEnd(text: string, tag: string, from: number): number {
  const tags = new RegExp(`<(/?)${tag}(?=[\\s>/])[^>]*>`, "gi");
  tags.lastIndex = from;
  let depth = 1;
  for (let match = tags.exec(text); match; match = tags.exec(text)) {
    depth += match[1] === "/" ? -1 : match[0].endsWith("/>") ? 0 : 1;
    if (depth === 0) return match.index + match[0].length;
  }
  return text.length;
}

/** Attributes whose text a reader never sees on the page: alt, title, aria-label, data-*, placeholder. */
export function stripHiddenAttributes(text: string): string {
  return text.replace(/<[a-zA-Z][^>]*>/g, (tag) =>
    tag.replace(/\s(?:alt|title|aria-label|placeholder|data-[a-zA-Z0-9-]+)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)/gi, ""),
  );
}

/** `&#65;` and `&#x41;`: printable ASCII is decoded, anything else (e.g. `&#x200B;`) dropped. */
export function decodeNumericEntities(text: string): string {
  const decode = (code: number) => (code >= 32 && code <= 126 ? String.fromCharCode(code) : "");
  return text
    .replace(/&#(\d{1,7});/g, (_, dec: string) => decode(Number.parseInt(dec, 10)))
    .replace(/&#x([0-9a-f]{1,6});/gi, (_, hex: string) => decode(Number.parseInt(hex, 16)));
}
