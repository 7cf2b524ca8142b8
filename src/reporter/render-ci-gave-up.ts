import type { CiFailure } from "../queue/task-data.js";
import { codeSpan, inlineText } from "./markdown.js";
import { outboundTarget } from "./outbound.js";

/** The label a cluster pull request gets when Claude stops trying to turn its CI green. */
export const CI_FAILED_LABEL = "claude:ci-failed";

/**
 * The one comment on a pull request whose CI-fix attempts ran out: which checks fail, the last
 * error (hostile text: CI output is written by whoever can push a workflow, so it goes through
 * the outbound filter as one line) and what a person can do. Pure but for the GitHub host.
 */
export function renderCiGaveUp(pr: { owner: string; repo: string; number: number }, attempts: number, failing: readonly CiFailure[], host?: string): string {
  const target = outboundTarget({ owner: pr.owner, repo: pr.repo, issueNumber: pr.number }, host);
  const names = failing.map((check) => codeSpan(check.name, 80)).join(", ") || "the checks";
  const lastError = failing.map(lastErrorOf).find((text) => text !== undefined);
  return [
    `🛑 **Claude stopped fixing CI** on this pull request: ${names} still ${failing.length === 1 ? "fails" : "fail"} after ${attempts} ${attempts === 1 ? "attempt" : "attempts"} (\`ciFixAttempts\` in \`.github/claude-cluster.yml\`).`,
    ...(lastError ? [`**Last error** ${inlineText(lastError, 1_000, target)}`] : []),
    `Label \`${CI_FAILED_LABEL}\` is set. Fix it by hand, or comment \`/claude fix-ci\` to have Claude try again.`,
  ].join("\n\n");
}

/** What a person reads first: the first failure annotation, else the output's title and summary, else the log's last lines. */
function lastErrorOf(check: CiFailure): string | undefined {
  const annotation = check.annotations.find((a) => a.level === "failure") ?? check.annotations[0];
  if (annotation) return `${check.name}: ${annotation.path}${annotation.line ? `:${annotation.line}` : ""}: ${annotation.message}`;
  const output = [check.title, check.summary].filter((part): part is string => part !== undefined && part.trim() !== "").join(": ");
  if (output) return `${check.name}: ${output}`;
  const tail = check.logTail
    ?.split("\n")
    .filter((line) => line.trim() !== "")
    .slice(-5)
    .join(" ⏎ ");
  return tail ? `${check.name}: ${tail}` : undefined;
}
