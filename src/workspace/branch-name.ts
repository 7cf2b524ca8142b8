/** Longest slug; keeps branch names readable in the GitHub UI and in `git branch` output. */
export const MAX_SLUG_LENGTH = 40;

/** Below this, a cut at a '-' would throw away too much of a long first word: cut mid-word instead. */
const MIN_WORD_CUT = MAX_SLUG_LENGTH / 2;

// Latin letters that NFKD does not decompose into "base letter + mark", so stripping marks
// alone would turn "Zażółć" into "zazo-c". A few common ones, transliterated the usual way.
const TRANSLITERATIONS: Readonly<Record<string, string>> = {
  ł: "l",
  đ: "d",
  ø: "o",
  ħ: "h",
  ı: "i",
  ß: "ss",
  æ: "ae",
  œ: "oe",
  þ: "th",
};

/**
 * `claude/issue-<n>-<slug>`: stable for an issue number and title, so a retry continues the
 * same branch. The slug only ever holds `[a-z0-9-]`, which rules out everything
 * `git check-ref-format --branch` rejects (`..`, `@{`, `.lock`, control characters, …).
 */
export function branchName(issueNumber: number, title: string): string {
  if (!Number.isSafeInteger(issueNumber) || issueNumber < 1) {
    throw new RangeError(`issue number must be a positive integer, got ${issueNumber}`);
  }
  return `claude/issue-${issueNumber}-${slugify(title)}`;
}

/** The slug part of a branch name: ASCII words joined by '-', or `task` when none are left. */
export function slugify(title: string): string {
  // Lowercase first: "İ".toLowerCase() yields "i" plus a combining dot that NFKD then strips.
  const ascii = title
    .toLowerCase()
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    // eslint-disable-next-line no-control-regex -- the ASCII range, NUL included
    .replace(/[^\x00-\x7f]/g, (char) => TRANSLITERATIONS[char] ?? "-");
  const slug = truncate(ascii.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, ""));
  return slug === "" ? "task" : slug;
}

function truncate(slug: string): string {
  if (slug.length <= MAX_SLUG_LENGTH) return slug;
  const head = slug.slice(0, MAX_SLUG_LENGTH);
  // A '-' right after the cut means the cut already falls on a word boundary.
  if (slug[MAX_SLUG_LENGTH] === "-") return head;
  const lastDash = head.lastIndexOf("-");
  const cut = lastDash >= MIN_WORD_CUT ? head.slice(0, lastDash) : head;
  return cut.replace(/-+$/, "");
}

/**
 * git's own rules for a branch name (`git check-ref-format --branch`), checked without
 * spawning git on every prepare. Names from the task are untrusted input, and one starting
 * with '-' would read as an option to `git worktree add`.
 */
export function isValidBranchName(name: string): boolean {
  if (name === "" || name === "HEAD" || name.startsWith("-")) return false;
  // eslint-disable-next-line no-control-regex -- git refuses control characters in ref names
  if (/[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\/|^\/|\/$|\.$/.test(name)) return false;
  return name.split("/").every((part) => !part.startsWith(".") && !part.endsWith(".lock"));
}
