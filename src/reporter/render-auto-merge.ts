import type { TaskRecord } from "../queue/task-record.js";
import { inlineText } from "./markdown.js";
import type { OutboundTarget } from "./outbound.js";

/**
 * The tracking comment's line on `merge: auto`: enabled (GitHub merges once the branch's required
 * checks and reviews pass), not asked for and why, or what GitHub answered and what fixes it.
 * Undefined when the repository did not ask. Pure.
 */
export function autoMergeLine(record: TaskRecord, target: OutboundTarget): string | undefined {
  const outcome = record.autoMergeOutcome;
  if (!outcome) return undefined;
  switch (outcome.status) {
    case "enabled":
      return `**Auto-merge** enabled (${record.autoMerge ?? "merge"}): GitHub merges the pull request once the base branch's required checks and reviews pass`;
    case "skipped":
      return `**Auto-merge** not enabled: ${inlineText(outcome.message ?? "the tests did not pass", 300)}; merge by hand when the pull request is ready`;
    case "refused":
      return (
        `⚠️ **Auto-merge could not be enabled**: GitHub answered “${inlineText(outcome.message ?? "no reason given", 500, target)}”. ` +
        "Allow auto-merge in the repository's settings (General → Pull Requests) and protect the base branch with required checks, or merge by hand"
      );
  }
}
