import { StringDecoder } from "node:string_decoder";

/**
 * Turns stdout chunks into whole lines. A pipe delivers chunks of any size, so a JSON line
 * can arrive in several pieces and a chunk can end in the middle of a line, or of a UTF-8
 * character such as the CLI's `·`. Splitting each chunk on "\n" on its own (the bug of
 * claude-code-action's CLI era) turns those pieces into unparseable lines.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  /** Adds a chunk; returns the lines it completed, without their line endings. Blank lines are dropped. */
  push(chunk: Buffer | string): string[] {
    this.partial += typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    const pieces = this.partial.split("\n");
    // The last piece has no "\n" after it yet: keep it for the next chunk.
    this.partial = pieces.pop() ?? "";
    return clean(pieces);
  }

  /** The last line when the stream ends without a final newline. */
  flush(): string[] {
    const rest = this.partial + this.decoder.end();
    this.partial = "";
    return clean([rest]);
  }
}

function clean(lines: string[]): string[] {
  return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line)).filter((line) => line.trim() !== "");
}
