import type { MergeMethod } from "../config/repo-config.js";
import type { GitHubClient } from "../github/github-client.js";
import { httpStatus, isRetryable, rateLimitedUntil } from "../github/github-errors.js";
import type { TaskAutoMerge, TaskRecord } from "../queue/task-record.js";
import type { Logger } from "../shared/logger.js";

/** GitHub's native auto-merge: it merges once branch protection's required checks and reviews pass, never before. */
const ENABLE_AUTO_MERGE = `
  mutation EnableAutoMerge($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!) {
    enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod }) {
      pullRequest { number autoMergeRequest { mergeMethod } }
    }
  }`;

const METHODS: Record<MergeMethod, "MERGE" | "SQUASH" | "REBASE"> = { merge: "MERGE", squash: "SQUASH", rebase: "REBASE" };

/** Why auto-merge is not asked for, by the state of the task's tests. */
function notPassed(tests: TaskRecord["tests"]): string {
  switch (tests?.status) {
    case "failed":
      return "the tests fail";
    case "none":
      return "the repository configures no test command";
    case "refused":
      return "the agent's owner does not allow the test command to run";
    case "runner":
      return "a self-hosted runner does not run the test command";
    default:
      return "no test result was recorded";
  }
}

/**
 * GraphQL errors arrive in a 200 answer (Octokit's GraphqlResponseError, which has no status):
 * GitHub refused this request for good, e.g. "Pull request is in clean status" (nothing left to
 * wait for: no required check), "Auto merge is not allowed for this repository".
 */
function graphqlMessages(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("errors" in error) || !Array.isArray(error.errors)) return undefined;
  const messages = (error.errors as unknown[]).map((entry) =>
    typeof entry === "object" && entry !== null && "message" in entry ? String(entry.message) : "unknown error",
  );
  return messages.length > 0 ? messages.join("; ") : undefined;
}

/**
 * `merge: auto`: once the task's own tests passed, asks GitHub to auto-merge its pull request
 * with the repository's method. What GitHub refuses for good becomes the outcome, for the
 * tracking comment; an outage or a rate limit is thrown, so the reporter's event tries again
 * later (asking twice is harmless). Undefined when the repository did not ask.
 */
export async function enableAutoMerge(octokit: GitHubClient, record: TaskRecord, pullRequestId: string, log: Logger): Promise<TaskAutoMerge | undefined> {
  const method = record.autoMerge;
  if (method === undefined) return undefined;
  if (record.tests?.status !== "passed") return { status: "skipped", message: notPassed(record.tests) };
  try {
    await octokit.graphql(ENABLE_AUTO_MERGE, { pullRequestId, mergeMethod: METHODS[method] });
    log.info({ method }, "auto-merge enabled on the pull request");
    return { status: "enabled" };
  } catch (error) {
    const refused = graphqlMessages(error);
    if (refused === undefined && (isRetryable(error) || rateLimitedUntil(error, Date.now()) !== undefined)) throw error;
    const message = refused ?? (error instanceof Error ? error.message : String(error));
    log.warn({ err: error, status: httpStatus(error) }, "GitHub refused auto-merge on the pull request");
    return { status: "refused", message };
  }
}
