import { describe, expect, it } from "vitest";
import { parseBlockers } from "../src/commands/parse-blockers.js";
import { issueKey } from "../src/shared/task-id.js";

const HERE = { owner: "octo-org", repo: "hello", number: 7 };
const same = (number: number) => ({ owner: "octo-org", repo: "hello", number });

describe("parseBlockers reads what an issue's body says it waits for", () => {
  it.each<[string, string, ReturnType<typeof parseBlockers>]>([
    ["nothing", "Please add a CHANGELOG entry.", []],
    ["Blocked by one issue", "Blocked by #40", [same(40)]],
    ["Depends on one issue", "Depends on #41", [same(41)]],
    ["any case", "BLOCKED BY #40 and depends ON #3", [same(40), same(3)]],
    ["with a colon", "Blocked by: #40", [same(40)]],
    ["mid-sentence", "This is blocked by #40 until the API lands.", [same(40)]],
    ["a list with commas", "Blocked by #1, #2,#3", [same(1), same(2), same(3)]],
    ["a list with and / &", "Depends on #1 and #2 & #3", [same(1), same(2), same(3)]],
    ["another repository", "Depends on other-org/api.js#12", [{ owner: "other-org", repo: "api.js", number: 12 }]],
    ["a mixed list", "Blocked by #5, other/repo#6", [same(5), { owner: "other", repo: "repo", number: 6 }]],
    ["on several lines", "Blocked by #1\n\nSome text.\nDepends on #2", [same(1), same(2)]],
    ["each issue once", "Blocked by #4\nDepends on #4 and octo-org/hello#4", [same(4)]],
    ["the same issue written in another case, once", "Blocked by Octo-Org/Hello#4, #4", [{ owner: "Octo-Org", repo: "Hello", number: 4 }]],
    ["never the issue itself", "Blocked by #7, #8", [same(8)]],
    ["a list stops at other words", "Blocked by #1 because of #2", [same(1)]],
    ["a bare reference is no dependency", "See #40 for context.", []],
    ["words that only look alike", "unblocked by #40; it depends only on #41", []],
    ["no number", "Blocked by the design review", []],
    ["a fenced code block", "```\nBlocked by #40\n```\nDepends on #41", [same(41)]],
    ["a quote", "> Blocked by #40\n\nDepends on #41", [same(41)]],
    ["an HTML comment", "<!-- Blocked by #40 -->\nDepends on #41", [same(41)]],
    ["a code span", "Write `Blocked by #40` to hold an issue. Depends on #41", [same(41)]],
    ["indented code", "Text.\n\n    Blocked by #40\n", []],
    ["Windows line endings", "Intro\r\nBlocked by #40\r\n", [same(40)]],
  ])("%s", (_name, body, expected) => {
    expect(parseBlockers(body, HERE)).toEqual(expected);
  });

  it("keys an issue the same however its owner and repository are written", () => {
    expect(issueKey({ owner: "Octo-Org", repo: "Hello", number: 4 })).toBe(issueKey(same(4)));
  });

  it("reads a long body in linear time", () => {
    const body = `${"Blocked by #1, ".repeat(20_000)}\n${"x ".repeat(50_000)}`;
    const start = performance.now();
    expect(parseBlockers(body, HERE)).toEqual([same(1)]);
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});
