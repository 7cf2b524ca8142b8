import type { TaskRecord } from "../queue/task-record.js";
import { formatCost, formatDuration } from "./format-duration.js";
import { codeSpan, markdownBlock } from "./markdown.js";
import { outboundTarget } from "./outbound.js";
import { testsSection } from "./render-tests.js";

/** A PR body may hold 65,536 characters; leave room for the footer. */
const MAX_SUMMARY = 50_000;

/**
 * The pull request description: Claude's summary through the outbound filter, the closing
 * keyword, the repository's tests (or why none ran), the run's figures. Pure but for the GitHub host, read from the environment
 * (`GHE_HOST`, the Action's `GITHUB_SERVER_URL`) unless given.
 */
export function renderPullRequestBody(record: TaskRecord, host?: string): string {
  const target = outboundTarget(record, host);
  const summary = record.result?.summary.trim()
    ? markdownBlock(record.result.summary, MAX_SUMMARY, target)
    : `Claude pushed changes for #${record.issueNumber}; see the commits.`;
  const figures: string[] = [];
  if (record.agent) figures.push(`**Agent** ${codeSpan(record.agent)}`);
  if (record.result) {
    figures.push(
      `**cost** ${formatCost(record.result.costUsd)}`,
      `**turns** ${record.result.turns}`,
      `**duration** ${formatDuration(record.result.durationMs)}`,
    );
  }
  const sections = [
    summary,
    // Same-repository closing keyword: merging closes the issue.
    `Closes #${record.issueNumber}`,
    ...testsSection(record, target),
    "---",
  ];
  if (figures.length > 0) sections.push(figures.join(" · "));
  sections.push(
    `Opened by Claude Code Cluster for ${record.owner}/${record.repo}#${record.issueNumber} (run ${record.run}); ` +
      "progress and follow-ups are in the tracking comment on the issue.",
  );
  return sections.join("\n\n") + "\n";
}
