import { sanitizeUserText } from "./sanitize.js";
import { formatBytes, utf8Prefix } from "./utf8-prefix.js";

/** A user's text, sanitised, and what the prompt calls it when it has to be cut. */
export interface UserText {
  what: string;
  clean: string;
  bytes: number;
  charLimit: number;
}

/** The prompt's own tags: user text may not open or close one. */
export const SECTION_TAGS =
  /<(\/?(?:role|issue|title|number|author|url|body|comments|comment|rules|pull-request|linked-issue|branches|review-feedback|review|thread|instructions|ci-failures|check|output|annotations|annotation|log|merge-conflicts|file|test-output)\b)/gi;

/** Sanitised, trimmed, and unable to close or open the prompt's own sections. */
export function userText(what: string, text: string, charLimit: number): UserText {
  const clean = sanitizeUserText(text).replace(SECTION_TAGS, "&lt;$1").trim();
  return { what, clean, bytes: Buffer.byteLength(clean), charLimit };
}

/** The text within its character limit and `cap` bytes, with a note saying what was cut. */
export function capped(text: UserText, cap: number): string {
  const { clean, charLimit } = text;
  const chars = clean.length <= charLimit ? clean : clean.slice(0, charLimit);
  if (Buffer.byteLength(chars) > cap) {
    const kept = utf8Prefix(chars, cap);
    return `${kept}\n\n[… cut: ${text.what} was ${formatBytes(text.bytes)}; the first ${Buffer.byteLength(kept)} bytes are above]`;
  }
  if (chars.length < clean.length) return `${chars}\n\n[… truncated ${clean.length - charLimit} characters: the text is longer than ${charLimit} characters]`;
  return clean;
}

/** A file path in an attribute: no quote, angle bracket or newline can break out of it. */
export function attribute(text: string): string {
  return sanitizeUserText(text)
    .replace(/["<>\n\r]/g, "_")
    .slice(0, 300);
}
