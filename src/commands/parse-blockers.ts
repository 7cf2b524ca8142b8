import { issueKey, type IssueRef } from "../shared/task-id.js";
import { plainTextLines } from "./plain-text-lines.js";

/**
 * `Blocked by` or `Depends on`, an optional colon, then a list of references: `#12`,
 * `owner/repo#12`, separated by commas, `and` or `&`. Owner and repository names as GitHub
 * allows them, so nothing else can ride along into a key or a comment.
 */
const PHRASE =
  /\b(?:blocked\s+by|depends\s+on)\s*:?\s*((?:[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100})?#\d{1,10}(?:\s*(?:,|&|\band\b)\s*(?:[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100})?#\d{1,10})*)/gi;
const REFERENCE = /(?:([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100}))?#(\d{1,10})/g;
/** A code span or an HTML comment within a line: an example or hidden text, not a dependency. */
const NOT_TEXT = /(`+)[^`]*?\1|<!--.*?(?:-->|$)/g;

/**
 * Pure: the issues an issue's body says it waits for (`Blocked by #12`, `Depends on
 * owner/repo#3, #4`), in the order written, each once, never the issue itself. Case does not
 * matter; lines in code blocks, quotes and HTML comments do not count, as for commands, nor do
 * code spans. Same-repository references are completed with `here`'s owner and repository.
 */
export function parseBlockers(body: string, here: IssueRef): IssueRef[] {
  const found = new Map<string, IssueRef>();
  for (const line of plainTextLines(body)) {
    for (const phrase of line.text.replace(NOT_TEXT, " ").matchAll(PHRASE)) {
      for (const ref of phrase[1]!.matchAll(REFERENCE)) {
        const blocker = { owner: ref[1] ?? here.owner, repo: ref[2] ?? here.repo, number: Number(ref[3]) };
        const key = issueKey(blocker);
        if (key === issueKey(here) || found.has(key)) continue;
        found.set(key, blocker);
      }
    }
  }
  return [...found.values()];
}
