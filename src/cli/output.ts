/**
 * The CLI's voice: results on stdout, problems on stderr. Neither returns anything, so a
 * command cannot pass a write's result off as its exit code.
 */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const withNewline = (text: string) => (text.endsWith("\n") ? text : `${text}\n`);

export const processOutput: Output = {
  out: (text) => {
    process.stdout.write(withNewline(text));
  },
  err: (text) => {
    process.stderr.write(withNewline(text));
  },
};

/** A plain-text table, columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
