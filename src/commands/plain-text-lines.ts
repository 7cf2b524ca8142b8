/**
 * The lines of a Markdown comment that GitHub renders as ordinary text starting at the
 * line's beginning: everything except fenced and indented code, blockquotes, lines that
 * begin inside an inline code span, and lines that begin inside an HTML comment (hidden
 * on GitHub). A command quoted, shown as an example or hidden must never run.
 *
 * This is a small subset of CommonMark, lenient in the safe direction: when unsure
 * (a fence at any indentation, an unclosed `<!--`), the line is treated as not plain.
 * Linear in the size of the body. Each line comes with its index in `splitLines(body)`.
 */
export function* plainTextLines(body: string): Generator<PlainLine> {
  let fence: { char: string; length: number } | undefined;
  let inComment = false;
  let paragraph: PlainLine[] = [];

  function* flush(): Generator<PlainLine> {
    if (paragraph.length === 0) return;
    const scanned = scanParagraph(paragraph);
    paragraph = [];
    inComment = scanned.commentOpen;
    yield* scanned.plain;
  }

  for (const [index, line] of splitLines(body).entries()) {
    if (fence) {
      if (closesFence(line, fence)) fence = undefined;
      continue;
    }
    if (!inComment && isParagraphLine(line, paragraph.length > 0)) {
      paragraph.push({ text: line, index });
      continue;
    }
    yield* flush();
    if (inComment) {
      // The line starts inside the comment; text after `-->` may open another one.
      const end = line.indexOf("-->");
      if (end === -1) continue;
      const rest = line.slice(end + 3);
      inComment = rest.lastIndexOf("<!--") > rest.lastIndexOf("-->");
      continue;
    }
    fence = openFence(line);
    // Otherwise a blank, quoted or indented-code line: never a command, and it ends the paragraph.
  }
  yield* flush();
}

/** A line of plain text and its index among the body's lines. */
export interface PlainLine {
  text: string;
  index: number;
}

/** A comment body's lines, whatever its line endings. */
export function splitLines(body: string): string[] {
  return body.split(/\r\n|\r|\n/);
}

const FENCE_OPEN = /^[ \t]*(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^[ \t]*(`{3,}|~{3,})[ \t]*$/;

function openFence(line: string): { char: string; length: number } | undefined {
  const match = FENCE_OPEN.exec(line);
  if (!match) return undefined;
  const run = match[1]!;
  // "```js```" on one line is an inline code span, not a fence.
  if (run[0] === "`" && match[2]!.includes("`")) return undefined;
  return { char: run[0]!, length: run.length };
}

function closesFence(line: string, fence: { char: string; length: number }): boolean {
  const run = FENCE_CLOSE.exec(line)?.[1];
  return run !== undefined && run[0] === fence.char && run.length >= fence.length;
}

/** Spaces before text, with tabs to the next multiple of 4 as Markdown counts them. */
export function indentWidth(line: string): number {
  let width = 0;
  for (const char of line) {
    if (char === " ") width += 1;
    else if (char === "\t") width += 4 - (width % 4);
    else break;
  }
  return width;
}

function isParagraphLine(line: string, continuing: boolean): boolean {
  const text = line.trimStart();
  if (text === "" || text.startsWith(">") || openFence(line)) return false;
  // Four spaces start an indented code block, but only when not continuing a paragraph.
  return continuing || indentWidth(line) < 4;
}

/**
 * Finds which lines of one paragraph start inside a code span or HTML comment. A code span
 * runs from a backtick string to the next backtick string of the same length; one with no
 * such closer is literal text. Inline code cannot cross paragraphs; an unclosed `<!--` is
 * taken to hide the rest of the body, since GitHub hides a comment block until `-->`.
 */
function scanParagraph(lines: readonly PlainLine[]): { plain: PlainLine[]; commentOpen: boolean } {
  const text = lines.map((line) => line.text).join("\n");
  const runs = [...text.matchAll(/`+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  // nextSame[r]: index of the next run as long as run r, or -1; one right-to-left pass.
  const nextSame = new Array<number>(runs.length);
  const lastByLength = new Map<number, number>();
  for (let r = runs.length - 1; r >= 0; r--) {
    const length = runs[r]!.end - runs[r]!.start;
    nextSame[r] = lastByLength.get(length) ?? -1;
    lastByLength.set(length, r);
  }

  const hidden: [number, number][] = [];
  let commentOpen = false;
  let i = 0;
  let r = 0;
  let comment = text.indexOf("<!--");
  for (;;) {
    while (r < runs.length && runs[r]!.start < i) r++;
    if (comment !== -1 && comment < i) comment = text.indexOf("<!--", i);
    const run = runs[r];
    if (run && (comment === -1 || run.start < comment)) {
      const close = runs[nextSame[r]!];
      if (close) hidden.push([run.end, close.start]);
      i = close ? close.end : run.end;
      continue;
    }
    if (comment === -1) break;
    // `<!-->` is itself a complete (empty) comment, so look for `-->` from the second dash.
    const end = text.indexOf("-->", comment + 2);
    if (end === -1) {
      hidden.push([comment + 4, Infinity]);
      commentOpen = true;
      break;
    }
    hidden.push([comment + 4, end]);
    i = end + 3;
  }

  const plain: PlainLine[] = [];
  let offset = 0;
  let h = 0;
  for (const line of lines) {
    while (h < hidden.length && hidden[h]![1] <= offset) h++;
    const span = hidden[h];
    if (!span || offset < span[0]) plain.push(line);
    offset += line.text.length + 1;
  }
  return { plain, commentOpen };
}
