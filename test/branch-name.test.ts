import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { MAX_SLUG_LENGTH, branchName, isValidBranchName, slugify } from "../src/workspace/branch-name.js";

async function isValidBranch(name: string): Promise<boolean> {
  const { exitCode } = await execa("git", ["check-ref-format", "--branch", name], { reject: false });
  return exitCode === 0;
}

const LONG = "Refactor the authentication middleware so that sessions expire correctly after idle timeouts";

const cases: Array<{ title: string; expected: string; why: string }> = [
  { why: "plain title", title: "Fix login button", expected: "claude/issue-7-fix-login-button" },
  { why: "Polish diacritics and ł", title: "Zażółć gęślą jaźń", expected: "claude/issue-7-zazolc-gesla-jazn" },
  { why: "German ß and French accents", title: "Straße café résumé", expected: "claude/issue-7-strasse-cafe-resume" },
  { why: "Japanese only", title: "ログインボタンを修正", expected: "claude/issue-7-task" },
  { why: "Japanese with ASCII words", title: "バグ: API timeout", expected: "claude/issue-7-api-timeout" },
  { why: "full-width letters fold to ASCII", title: "ＡＢＣ１２３", expected: "claude/issue-7-abc123" },
  { why: "emoji", title: "🚀 Speed up 🔥 build", expected: "claude/issue-7-speed-up-build" },
  { why: "emoji only", title: "🚀🔥✨", expected: "claude/issue-7-task" },
  { why: "only symbols", title: "!!! ??? ... ---", expected: "claude/issue-7-task" },
  { why: "empty title", title: "", expected: "claude/issue-7-task" },
  { why: "double dots", title: "Bump v1..v2 range", expected: "claude/issue-7-bump-v1-v2-range" },
  { why: ".lock ending", title: "update package.lock", expected: "claude/issue-7-update-package-lock" },
  { why: "@{ sequence", title: "Handle @{upstream} refs", expected: "claude/issue-7-handle-upstream-refs" },
  { why: "leading dots and dashes", title: "...--hidden file--", expected: "claude/issue-7-hidden-file" },
  { why: "slashes and backslashes", title: "src/app\\main: crash", expected: "claude/issue-7-src-app-main-crash" },
  { why: "control characters and tabs", title: "a\tb\u0000c\u007fd", expected: "claude/issue-7-a-b-c-d" },
  { why: "Turkish dotted capital I", title: "İstanbul", expected: "claude/issue-7-istanbul" },
  {
    why: "long title cut at a word boundary",
    title: LONG,
    expected: "claude/issue-7-refactor-the-authentication-middleware",
  },
  { why: "one long word cut mid-word", title: "a".repeat(100), expected: `claude/issue-7-${"a".repeat(40)}` },
  {
    why: "a cut that would end in '-' does not",
    title: `${"x".repeat(39)} yz`,
    expected: `claude/issue-7-${"x".repeat(39)}`,
  },
];

describe("branchName", () => {
  it.each(cases)("$why", async ({ title, expected }) => {
    const name = branchName(7, title);
    expect(name).toBe(expected);
    expect(await isValidBranch(name)).toBe(true);
  });

  it("keeps every slug within the limit, never ending in '-' or '.'", async () => {
    const titles = [LONG, `${"word ".repeat(30)}`, `${"ab-".repeat(30)}`, `${"é".repeat(80)}`, "a".repeat(39) + "-b"];
    for (const title of titles) {
      const slug = slugify(title);
      expect(slug.length).toBeLessThanOrEqual(MAX_SLUG_LENGTH);
      expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(await isValidBranch(branchName(1, title))).toBe(true);
    }
  });

  it("is stable, so a retry lands on the same branch", () => {
    expect(branchName(12, "Fix it!")).toBe(branchName(12, "Fix it!"));
  });

  it("refuses an issue number that is not a positive integer", () => {
    expect(() => branchName(0, "x")).toThrow(RangeError);
    expect(() => branchName(1.5, "x")).toThrow(RangeError);
    expect(() => branchName(Number.NaN, "x")).toThrow(RangeError);
  });
});

describe("isValidBranchName", () => {
  const names = [
    "main",
    "claude/issue-7-fix",
    "release/1.2",
    "feature/ünïcode",
    "a.b",
    "x@y",
    "@",
    "HEAD",
    "-x",
    "",
    "a..b",
    "a.lock",
    "a.lock/b",
    "a/.hidden",
    ".a",
    "a/",
    "/a",
    "a//b",
    "a.",
    "a@{b",
    "a b",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[b",
    "a\\b",
    "a\u0001b",
    "a\u007fb",
    "lock.a",
    "a/b.lock.c",
  ];
  it.each(names)("agrees with git check-ref-format --branch on %j", async (name) => {
    expect(isValidBranchName(name)).toBe(await isValidBranch(name));
  });
});
