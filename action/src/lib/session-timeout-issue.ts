import type { GitHubClient } from "../../../src/github/github-client.js";
import { inlineText } from "../../../src/reporter/markdown.js";
import { outboundTarget } from "../../../src/reporter/outbound.js";

/** The label every session-timeout issue carries, daemon or runner. */
export const SESSION_TIMEOUT_LABEL = "session-timeout";

/**
 * Opens "<runner>: Claude session expired" unless one is already open for this runner, so a
 * burst of tasks on a logged-out runner makes one issue, not one per task. Returns its number.
 */
export async function ensureSessionTimeoutIssue(
  octokit: GitHubClient,
  target: { owner: string; repo: string; runner: string; message: string; runUrl: string },
): Promise<{ number: number; created: boolean }> {
  const title = `${target.runner}: Claude session expired`;
  const open = await octokit.paginate(octokit.rest.issues.listForRepo, {
    owner: target.owner,
    repo: target.repo,
    labels: SESSION_TIMEOUT_LABEL,
    state: "open",
    per_page: 100,
  });
  const existing = open.find((issue) => !issue.pull_request && issue.title.startsWith(`${target.runner}:`));
  if (existing) return { number: existing.number, created: false };
  const body = [
    // The CLI's words: through the outbound filter (no secret, link, ping or reference to another issue).
    `The self-hosted runner **${target.runner}** could not use its Claude login: ${inlineText(target.message, 1_000, outboundTarget({ ...target, issueNumber: 0 }))}`,
    "",
    "To fix it, on that machine, as the user the runner service runs as:",
    "",
    "```sh",
    "claude /login",
    "```",
    "",
    `Then close this issue. Tasks that hit this wait and are dispatched again. Run: ${target.runUrl}`,
  ].join("\n");
  const { data } = await octokit.rest.issues.create({ owner: target.owner, repo: target.repo, title, body, labels: [SESSION_TIMEOUT_LABEL] });
  return { number: data.number, created: true };
}
