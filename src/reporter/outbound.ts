import { redactSecrets } from "../shared/redact.js";

/**
 * The one filter for Claude's and the CLI's words on their way to GitHub (PR body, tracking
 * comment, session issues). Issue text can steer Claude, so what Claude writes is treated as
 * an attacker's: no secret, no request to another host (an image is a beacon), no link that
 * hides where it goes, no ping, no backlink on another issue. Only the task's own repository
 * on the app's GitHub host stays linked, and only the task's own issue may be referenced.
 */
export interface OutboundTarget {
  /** The GitHub host, `github.com` or the GHES host (`GHE_HOST`). */
  host: string;
  owner: string;
  repo: string;
  /** The task's issue: `#n` and `owner/repo#n` stay live; 0 keeps none. */
  issueNumber: number;
  /**
   * Keep references to any issue of the repository, not only the task's: for the app's own
   * sentences that quote a CLI or git message (`waitingFor` names the session-timeout issue).
   * Other repositories' references stay defanged.
   */
  anyIssueOfRepository?: boolean;
}

/** The app's GitHub host: `GHE_HOST` (Probot's), else the Action's `GITHUB_SERVER_URL`, else github.com. */
export function githubHost(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GHE_HOST) return env.GHE_HOST.trim().toLowerCase();
  try {
    if (env.GITHUB_SERVER_URL) return new URL(env.GITHUB_SERVER_URL).host.toLowerCase();
  } catch {
    // Not a URL: Actions always sets a valid one, so fall back to github.com.
  }
  return "github.com";
}

export function outboundTarget(record: { owner: string; repo: string; issueNumber: number }, host = githubHost()): OutboundTarget {
  return { host, owner: record.owner, repo: record.repo, issueNumber: record.issueNumber };
}

/**
 * True for a URL (absolute, or relative to the repository) under `https://<host>/<owner>/<repo>`
 * that names no other issue or pull request. A user-content or other repository's URL is not:
 * a beacon can live there as well as anywhere.
 */
export function isOwnUrl(url: string, target: OutboundTarget): boolean {
  let parsed: URL;
  let path: string[];
  try {
    parsed = new URL(url.trim(), `https://${target.host}/${target.owner}/${target.repo}/`);
    path = parsed.pathname
      .split("/")
      .slice(1)
      .map((part) => decodeURIComponent(part).toLowerCase());
  } catch {
    return false;
  }
  if (!/^https?:$/.test(parsed.protocol) || parsed.host.toLowerCase() !== target.host.toLowerCase()) return false;
  if (parsed.username || parsed.password) return false;
  const [owner, repo, kind, number] = path;
  if (owner !== target.owner.toLowerCase() || repo !== target.repo.toLowerCase()) return false;
  return !(/^(issues|pull|pulls|discussions)$/.test(kind ?? "") && /^\d+$/.test(number ?? "") && !ownIssue(Number(number), target));
}

function ownIssue(number: number, target: OutboundTarget): boolean {
  return number === target.issueNumber || target.anyIssueOfRepository === true;
}

/**
 * `@user` and `@org/team` stop pinging (U+200B after the `@`, as `inlineText` does); `#5`,
 * `other/repo#5` and `GH-5` stop linking, except to the task's own issue. A commit of another
 * repository (`other/repo@sha`) loses its `@` like a mention. Plain text in, plain text out.
 */
export function defangReferences(text: string, target: OutboundTarget): string {
  const own = (owner: string | undefined, repo: string | undefined, number: string) =>
    ownIssue(Number(number), target) &&
    (owner === undefined || (owner.toLowerCase() === target.owner.toLowerCase() && repo!.toLowerCase() === target.repo.toLowerCase()));
  return text
    .replace(/@(?=[A-Za-z0-9])/g, "@\u200b")
    .replace(/(?:(?<![\w.-])([A-Za-z0-9][\w.-]*)\/([\w.-]+))?#(?=(\d+))/g, (match, owner?: string, repo?: string, number = "") =>
      own(owner, repo, number) ? match : `${match}\u200b`,
    )
    .replace(/\bGH-(?=(\d+))/gi, (match, number: string) => (own(undefined, undefined, number) ? match : `${match}\u200b`));
}

/** A fence opened at column 0 is top-level for GitHub too: its code is exempt. */
const EXEMPT_OPENER = /^(?:(`{3,})[^`]*|(~{3,}).*)$/;
/** A fence GitHub may see inside a list or quote, or indented: where it ends is not certain. */
const UNSURE_OPENER = /^(?:[ \t]*(?:>|[-*+]|\d{1,9}[.)]))*[ \t]*(?:(`{3,})[^`]*|(~{3,}).*)$/;
const EXEMPT_CLOSER = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
const UNSURE_CLOSER = /^(?:[ \t]*(?:>|[-*+]|\d{1,9}[.)]))*[ \t]*(`{3,}|~{3,})[ \t]*$/;

/**
 * Claude's markdown made safe to publish (see the module comment). Code in a fenced block
 * opened at column 0, and in inline code spans, is left as written except for secrets: GitHub
 * renders it literally, so it links, loads and pings nothing. Once a fence appears that GitHub
 * might nest (indented, in a list or quote), fenced text is no longer trusted to be code and
 * gets the invisible defang instead: U+200B after `@`, `#`, `<` and in foreign URLs. Pure.
 */
export function outboundText(text: string, target: OutboundTarget): string {
  let fence: { char: string; length: number; exempt: boolean } | undefined;
  let unsure = false;
  const lines = redactSecrets(text).replace(/\r\n?/g, "\n").split("\n");
  return lines
    .map((line) => {
      if (fence) {
        const closer = (fence.exempt ? EXEMPT_CLOSER : UNSURE_CLOSER).exec(line)?.[1];
        if (closer?.[0] === fence.char && closer.length >= fence.length) {
          fence = undefined;
          return line;
        }
        return fence.exempt ? line : invisibleDefang(line, target);
      }
      const exempt = unsure ? null : EXEMPT_OPENER.exec(line);
      const opener = exempt ?? UNSURE_OPENER.exec(line);
      if (!opener) return proseLine(line, target);
      const run = opener[1] ?? opener[2]!;
      fence = { char: run[0]!, length: run.length, exempt: exempt !== null };
      unsure ||= exempt === null;
      return fence.exempt ? line : invisibleDefang(line, target);
    })
    .join("\n");
}

/** A code span as GitHub pairs it: a backtick run not escaped, closed by a run of the same length. */
const CODE_SPAN = /(?<![`\\])(`+)(?!`)[^\n]*?(?<!`)\1(?!`)/g;

/** Code spans kept as written, everything between them through `outside`. */
function aroundCodeSpans(text: string, outside: (part: string) => string): string {
  let out = "";
  let last = 0;
  for (const span of text.matchAll(CODE_SPAN)) {
    out += outside(text.slice(last, span.index)) + span[0];
    last = span.index + span[0].length;
  }
  return out + outside(text.slice(last));
}

/** Also inside a list or quote: a definition GitHub might read must not survive with a foreign URL. */
const DEFINITION = /^((?:[ \t]*(?:>|[-*+]|\d{1,9}[.)]))*[ \t]*)\[([^\]\n]+)\]:([ \t]*)(<[^<>\n]*>|\S*)(.*)$/;

function proseLine(line: string, target: OutboundTarget): string {
  const definition = DEFINITION.exec(line);
  if (definition) {
    const [, lead = "", label = "", gap = "", destination = "", rest = ""] = definition;
    const url = destination.replace(/^<|>$/g, "");
    // The title, or the rest of a line that is no definition after all, is prose like any other.
    if (url && keepsDestination(url, target)) return `${lead}[${plainText(label, target)}]:${gap}${destination}${prose(rest, target)}`;
    // Without its brackets it defines nothing, so `[label]` elsewhere links nowhere.
    return `${lead}${plainText(label, target)}:${url ? ` ${inertUrl(url)}` : ""}${prose(rest, target)}`;
  }
  return prose(line, target);
}

/**
 * A destination kept as written: the repository's own, and plain, so that it reads as one URL
 * however GitHub parses the line (no brackets, parentheses, quotes or backslashes in it).
 */
function keepsDestination(url: string, target: OutboundTarget): boolean {
  return /^[^\s()[\]<>`"'\\]+$/.test(url) && isOwnUrl(url, target);
}

function prose(text: string, target: OutboundTarget): string {
  return aroundCodeSpans(text, (part) => linksAndUrls(part, target));
}

const DESTINATION = String.raw`(?:<[^<>\n]*>|(?:[^\s()<>]|\([^\s()<>]*\))+)`;
const URL_CHARS = String.raw`(?:[^\s<>\x60"'\[\]()]|\([^\s<>\x60"'\[\]()]*\))+`;
/** What GitHub autolinks in plain text (an e-mail address loses its link with the `@` defang). */
const BARE_URL = String.raw`((?:https?:\/\/|ftp:\/\/|www\.)${URL_CHARS})`;
/** An inline image or link, an autolink, a bare URL; whatever lies between them is plain text. */
const TOKEN = new RegExp(
  [
    String.raw`(!?)\[([^\[\]\n]*)\]\(\s*(${DESTINATION})(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?\s*\)`,
    String.raw`<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>]+)>`,
    BARE_URL,
  ].join("|"),
  "gi",
);

function linksAndUrls(text: string, target: OutboundTarget): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    out += plainText(text.slice(last, match.index), target);
    last = match.index + match[0].length;
    const [, bang, label = "", destination, autolink, bare] = match;
    let replacement: string;
    if (destination !== undefined) {
      const url = destination.replace(/^<|>$/g, "");
      const shown = aroundCodeSpans(label, (part) => plainText(part, target));
      if (keepsDestination(url, target)) replacement = `${bang}[${shown}](${destination})`;
      else if (bang) replacement = `image${shown ? ` ${shown}` : ""}: ${inertUrl(url)}`;
      else replacement = shown && label !== url ? `${shown} (${inertUrl(url)})` : inertUrl(url);
    } else if (autolink !== undefined) {
      replacement = keepsDestination(autolink, target) && !autolink.includes("@") ? `<${autolink}>` : inertUrl(autolink);
    } else {
      const url = trimTrailingPunctuation(bare!);
      last -= bare!.length - url.length;
      replacement = keepsBareUrl(url, target) ? url : inertUrl(url);
    }
    // A backslash right before our code span would escape its opening backtick.
    out += (out.endsWith("\\") ? " " : "") + replacement;
  }
  return out + plainText(text.slice(last), target);
}

function keepsBareUrl(url: string, target: OutboundTarget): boolean {
  return !/^www\./i.test(url) && !url.includes("@") && keepsDestination(url, target);
}

/** A foreign URL as a code span: readable and copyable, never fetched nor clickable. */
export function inertUrl(url: string): string {
  return `\`${url.replace(/`/g, "")}\``;
}

function trimTrailingPunctuation(url: string): string {
  return url.replace(/[?!.,:;*_~]+$/, "");
}

/**
 * One line of plain text for `inlineText`, which escapes all markup: a foreign bare URL becomes
 * a code span, an own one stays a link, the text between goes through `escape` after its
 * references are defanged.
 */
export function outboundInline(text: string, target: OutboundTarget, escape: (plain: string) => string): string {
  const plain = (part: string) => escape(defangReferences(part, target));
  let out = "";
  let last = 0;
  for (const match of text.matchAll(new RegExp(BARE_URL, "gi"))) {
    const url = trimTrailingPunctuation(match[0]);
    out += plain(text.slice(last, match.index)) + (keepsBareUrl(url, target) ? url : inertUrl(url));
    last = match.index + url.length;
  }
  return out + plain(text.slice(last));
}

/**
 * Plain text: references defanged first (GitHub finds them in the rendered text, after escapes
 * are gone); character references shown as written (`&#64;` would render an `@`; `&lt;` and a
 * few other harmless ones stay); raw HTML shown as text; every stray backtick escaped, so code
 * spans pair exactly as we paired them; `](` and `]:` escaped, so leftovers never join into a
 * link or a definition.
 */
function plainText(text: string, target: OutboundTarget): string {
  const escapeOddly = (char: string) => (_: string, slashes: string) => `${slashes}${slashes.length % 2 === 0 ? "\\" : ""}${char}`;
  return defangReferences(text, target)
    .replace(/&(?!(?:lt|gt|amp|quot|nbsp);)(?=#?[A-Za-z0-9]+;)/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/(\\*)`/g, escapeOddly("`"))
    .replace(/(\\*)\](?=[(:])/g, escapeOddly("]"));
}

/** For text that may be code or prose: nothing a reader sees changes, yet nothing pings, links or loads. */
function invisibleDefang(line: string, target: OutboundTarget): string {
  return defangReferences(line, target)
    .replace(/\b(https?|ftps?|wss?)(:[^\s<>`"'()[\]]*)/gi, (url: string, scheme: string, rest: string) =>
      isOwnUrl(url, target) ? url : `${scheme}\u200b${rest}`,
    )
    .replace(/(^|[\s(="'<])([\\/])([\\/])(?=[A-Za-z0-9])/g, "$1$2\u200b$3")
    .replace(/\bwww\./gi, "www\u200b.")
    .replace(/<(?=[A-Za-z/!?])/g, "<\u200b");
}
