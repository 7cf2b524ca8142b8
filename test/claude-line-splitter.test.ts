import { describe, expect, it } from "vitest";
import { LineSplitter } from "../src/claude/line-splitter.js";
import { parseStreamLine } from "../src/claude/parse-stream-line.js";

function split(chunks: (string | Buffer)[]): string[] {
  const splitter = new LineSplitter();
  return [...chunks.flatMap((chunk) => splitter.push(chunk)), ...splitter.flush()];
}

describe("LineSplitter", () => {
  const line = JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "done · ok", num_turns: 2 });

  it("reassembles a JSON line split across three chunks (claude-code-action's old bug)", () => {
    const a = line.slice(0, 10);
    const b = line.slice(10, 40);
    const c = line.slice(40);
    const splitter = new LineSplitter();
    expect(splitter.push(a)).toEqual([]);
    expect(splitter.push(b)).toEqual([]);
    expect(splitter.push(`${c}\n`)).toEqual([line]);
    expect(parseStreamLine(line).type).toBe("result");
  });

  it.each<[string, (string | Buffer)[], string[]]>([
    ["several lines in one chunk", ["a\nb\nc\n"], ["a", "b", "c"]],
    ["a chunk ending exactly on a newline", ["a\n", "b\n"], ["a", "b"]],
    ["CRLF line endings", ["a\r\nb\r", "\n"], ["a", "b"]],
    ["a last line without newline, flushed at the end", ["a\nb"], ["a", "b"]],
    ["blank lines dropped", ["\n\na\n\r\n\n"], ["a"]],
    ["nothing at all", [], []],
  ])("handles %s", (_, chunks, expected) => {
    expect(split(chunks)).toEqual(expected);
  });

  it("keeps a UTF-8 character that is split between two Buffer chunks", () => {
    const bytes = Buffer.from(`${line}\n`, "utf8");
    const middle = bytes.indexOf(Buffer.from("·", "utf8")) + 1; // inside the 2-byte "·"
    expect(split([bytes.subarray(0, middle), bytes.subarray(middle)])).toEqual([line]);
  });

  it("handles byte-at-a-time delivery", () => {
    const bytes = Buffer.from(`${line}\n${line}`, "utf8");
    const chunks = [...bytes].map((byte) => Buffer.from([byte]));
    expect(split(chunks)).toEqual([line, line]);
  });
});
