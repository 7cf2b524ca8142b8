import type { RedisClient } from "../shared/redis-client.js";
import type { Logger } from "../shared/logger.js";
import { redactSecrets } from "../shared/redact.js";
import { deleteSessionIssue, readSessionIssue, writeSessionIssue } from "../store/session-issues.js";
import type { SessionExpiredEvent, SessionVerifiedEvent } from "../queue/reporter-event.js";
import type { GitHubClient } from "../github/github-client.js";

export const SESSION_TIMEOUT_LABEL = "session-timeout";

export interface SessionIssueDeps {
  redis: RedisClient;
  prefix: string;
  log: Logger;
  getOctokit: (installationId: number) => Promise<GitHubClient>;
  /** The ops repository for session-timeout issues, when the app has one; else the task's. */
  opsRepo?: () => Promise<{ owner: string; repo: string; installationId: number } | undefined>;
}

/**
 * The CLI's words, for the inside of our ```text block: secrets redacted, and no fence of its
 * own that could end the block. Inside a code block nothing links, loads or pings.
 */
function cliMessage(message: string): string {
  return redactSecrets(message).replace(/`{3,}/g, (run) => "'".repeat(run.length));
}

export function sessionIssueBody(event: SessionExpiredEvent): string {
  return [
    `The Claude Code login of agent \`${event.agent}\` on host \`${event.host}\` (account \`${event.account}\`) stopped working at ${new Date(event.at).toISOString()}.`,
    "",
    "The CLI said:",
    "",
    "```text",
    cliMessage(event.message),
    "```",
    "",
    `The agent takes no work until its login works again; its tasks went back to the queue and nothing was lost.`,
    "",
    "**To fix it:**",
    "",
    `1. On \`${event.host}\`, as the user the agent runs as, run \`claude /login\` and complete the login.`,
    `2. Close this issue. The agent then checks its login: if it works, it resumes and comments "resumed" here; if not, this issue is reopened with the new message.`,
    "",
    `Without GitHub: \`ccc resume --agent ${event.agent}\` does the same check.`,
  ].join("\n");
}

/** Opens the agent's session-timeout issue, or reopens it; never a second open one. */
export async function openSessionIssue(deps: SessionIssueDeps, event: SessionExpiredEvent): Promise<void> {
  const existing = await readSessionIssue(deps.redis, deps.prefix, event.agent);
  if (existing?.open) {
    deps.log.info({ agent: event.agent, issue: existing.number }, "session-timeout issue already open");
    return;
  }
  const target = (await deps.opsRepo?.()) ?? event.repo;
  if (!target) {
    deps.log.error({ agent: event.agent }, "session expired but no repository to open the issue in: set CCC_OPS_REPO");
    return;
  }
  const octokit = await deps.getOctokit(target.installationId);
  if (existing && existing.owner === target.owner && existing.repo === target.repo) {
    await octokit.rest.issues.update({ owner: existing.owner, repo: existing.repo, issue_number: existing.number, state: "open" });
    await octokit.rest.issues.createComment({ owner: existing.owner, repo: existing.repo, issue_number: existing.number, body: sessionIssueBody(event) });
    await writeSessionIssue(deps.redis, deps.prefix, event.agent, { ...existing, open: true });
    return;
  }
  const { data } = await octokit.rest.issues.create({
    owner: target.owner,
    repo: target.repo,
    title: `${event.agent}: Claude session expired`,
    body: sessionIssueBody(event),
    labels: [SESSION_TIMEOUT_LABEL, "urgent"],
  });
  await writeSessionIssue(deps.redis, deps.prefix, event.agent, {
    owner: target.owner,
    repo: target.repo,
    number: data.number,
    installationId: target.installationId,
    open: true,
  });
  deps.log.warn({ agent: event.agent, issue: data.number }, "session-timeout issue opened");
}

/** After the agent checked its login: say "resumed", or reopen the issue with the new message. */
export async function answerSessionCheck(deps: SessionIssueDeps, event: SessionVerifiedEvent): Promise<void> {
  const issue = await readSessionIssue(deps.redis, deps.prefix, event.agent);
  if (!issue) return;
  const octokit = await deps.getOctokit(issue.installationId);
  const ref = { owner: issue.owner, repo: issue.repo, issue_number: issue.number };
  if (event.ok) {
    await octokit.rest.issues.createComment({ ...ref, body: `Agent \`${event.agent}\` verified its Claude login and resumed.` });
    if (issue.open) await octokit.rest.issues.update({ ...ref, state: "closed" });
    await deleteSessionIssue(deps.redis, deps.prefix, event.agent, issue);
    return;
  }
  await octokit.rest.issues.update({ ...ref, state: "open" });
  await octokit.rest.issues.createComment({
    ...ref,
    body: `Agent \`${event.agent}\` checked its login and it still fails:\n\n\`\`\`text\n${cliMessage(event.message ?? "")}\n\`\`\`\n\nRun \`claude /login\` on the agent's host as its user, then close this issue again.`,
  });
  await writeSessionIssue(deps.redis, deps.prefix, event.agent, { ...issue, open: true });
}
