import { describe, expect, it } from "vitest";
import { REPORT_TAIL, testOutputTail } from "../src/agent/test-output-tail.js";

const lines = (n: number, prefix = "line") => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`).join("\n");

describe("the tail of a test command's output", () => {
  it.each([
    ["plain output is kept as it is", "ok 1\nok 2\n", "ok 1\nok 2"],
    ["colours and cursor codes go", "\u001b[32m✓\u001b[39m passes\n\u001b[2K\u001b[1Gdone", "✓ passes\ndone"],
    ["an OSC hyperlink keeps its text", "see \u001b]8;;https://x.example\u0007the docs\u001b]8;;\u0007", "see the docs"],
    ["a progress bar rewritten with CR keeps its last state", "[=>   ] 20%\r[===> ] 60%\r[=====] 100%\nend", "[=====] 100%\nend"],
    ["CRLF line ends are line ends", "a\r\nb\r\n", "a\nb"],
    ["other control characters go, tabs stay", "a\u0007b\tc\u0000", "ab\tc"],
    ["trailing blank lines go", "failed\n\n\n", "failed"],
    ["secrets are redacted", "GITHUB_TOKEN=ghp_000000000000000000000000000000000000 leaked", "GITHUB_TOKEN=[redacted] leaked"],
    ["empty output stays empty", "", ""],
  ])("%s", (_what, raw, expected) => {
    expect(testOutputTail(raw, REPORT_TAIL)).toBe(expected);
  });

  it("keeps the last lines, as many as the limit allows", () => {
    expect(testOutputTail(lines(100), { lines: 3, chars: 1_000 })).toBe("line 98\nline 99\nline 100");
  });

  it("keeps fewer lines when they would pass the character cap, cutting at a line boundary", () => {
    const tail = testOutputTail(lines(100, "x".repeat(20)), { lines: 50, chars: 100 });
    expect(tail.length).toBeLessThanOrEqual(100);
    expect(tail.split("\n").every((line) => /^x{20} \d+$/.test(line))).toBe(true);
    expect(tail.endsWith(" 100")).toBe(true);
  });

  it("one line longer than the cap keeps its end, marked as cut", () => {
    const tail = testOutputTail(`${"a".repeat(500)}END`, { lines: 10, chars: 50 });
    expect(tail).toHaveLength(50);
    expect(tail.startsWith("…")).toBe(true);
    expect(tail.endsWith("END")).toBe(true);
  });
});
