import { z } from "zod";
import { issueKey, type IssueRef } from "../shared/task-id.js";
import type { GitHubClient } from "./github-client.js";
import { httpStatus, isGone } from "./github-errors.js";

/** What the app could see of one blocker: `unreadable` when its installation cannot read it. */
export interface Blocker {
  ref: IssueRef;
  state: "open" | "closed" | "unreadable";
}

/** What GitHub's issue objects say about an issue's dependencies, where it has them. */
export interface DependencySummary {
  /** Open issues that block this one. */
  blocked_by: number;
}

const summarySchema = z.object({ blocked_by: z.number().int().min(0) });

/** GitHub's `issue_dependencies_summary` of an issue object (REST or webhook), where this GitHub has dependencies. */
export function dependencySummaryOf(issue: unknown): DependencySummary | undefined {
  const parsed = summarySchema.safeParse((issue as { issue_dependencies_summary?: unknown } | null)?.issue_dependencies_summary);
  return parsed.success ? parsed.data : undefined;
}

/** The issue whose blockers are read: those its body names and GitHub's dependency summary, as last seen. */
export interface DependentIssue extends IssueRef {
  /** What its body says it waits for (`parseBlockers`). */
  named: readonly IssueRef[];
  /** Absent on GitHub versions without issue dependencies (and in older payloads): nothing to ask then. */
  dependencySummary?: DependencySummary | undefined;
}

/** Blockers read per issue at most: a longer list is the user's mistake, not a reason for a hundred calls. */
export const MAX_BLOCKERS = 20;

const dependencyIssueSchema = z.object({
  number: z.number().int(),
  state: z.string(),
  repository_url: z.string().optional(),
  html_url: z.string().optional(),
});

const REPOSITORY_URL = /\/repos\/([^/]+)\/([^/]+)$/;
const HTML_URL = /\/([^/]+)\/([^/]+)\/(?:issues|pull)\/\d+$/;

/**
 * Reads, with the dependent's installation, each issue it waits for: those its body names
 * and GitHub's own "blocked by" dependencies. Each blocker once, as GitHub
 * spells it where a read said so. `closed` (a blocker whose `issues.closed` event is being
 * handled) counts as closed without asking. A blocker the installation cannot read (404, 403,
 * 410) is `unreadable`, which holds the task as an open one would; any other error is thrown,
 * so the caller tries again later.
 */
export async function readBlockers(octokit: GitHubClient, issue: DependentIssue, closed?: string): Promise<Blocker[]> {
  const found = new Map<string, Blocker>();
  for (const blocker of await nativeBlockers(octokit, issue)) found.set(issueKey(blocker.ref), blocker);
  const named = issue.named.filter((ref) => !found.has(issueKey(ref)));
  for (const ref of named.slice(0, Math.max(0, MAX_BLOCKERS - found.size))) {
    found.set(issueKey(ref), issueKey(ref) === closed ? { ref, state: "closed" } : await readIssue(octokit, ref));
  }
  if (closed !== undefined) {
    const blocker = found.get(closed);
    if (blocker) blocker.state = "closed";
  }
  return [...found.values()];
}

/** GitHub's own "blocked by" list; a 404 (a GitHub Enterprise without issue dependencies) is none. */
async function nativeBlockers(octokit: GitHubClient, issue: DependentIssue): Promise<Blocker[]> {
  if (!issue.dependencySummary || issue.dependencySummary.blocked_by === 0) return [];
  let data: unknown;
  try {
    ({ data } = await octokit.rest.issues.listDependenciesBlockedBy({
      owner: issue.owner,
      repo: issue.repo,
      issue_number: issue.number,
      per_page: MAX_BLOCKERS,
    }));
  } catch (error) {
    if (httpStatus(error) === 404) return [];
    throw error;
  }
  const parsed = z.array(dependencyIssueSchema).safeParse(data);
  if (!parsed.success) throw new Error(`GitHub's blocked_by list for ${issue.owner}/${issue.repo}#${issue.number} is not a list of issues`);
  return parsed.data.map((entry) => {
    const where = REPOSITORY_URL.exec(entry.repository_url ?? "") ?? HTML_URL.exec(entry.html_url ?? "");
    const ref = { owner: where?.[1] ?? issue.owner, repo: where?.[2] ?? issue.repo, number: entry.number };
    return { ref, state: entry.state === "closed" ? "closed" : "open" };
  });
}

async function readIssue(octokit: GitHubClient, ref: IssueRef): Promise<Blocker> {
  try {
    const { data } = await octokit.rest.issues.get({ owner: ref.owner, repo: ref.repo, issue_number: ref.number });
    const where = REPOSITORY_URL.exec(data.repository_url);
    return { ref: { owner: where?.[1] ?? ref.owner, repo: where?.[2] ?? ref.repo, number: ref.number }, state: data.state === "closed" ? "closed" : "open" };
  } catch (error) {
    if (isGone(error) || httpStatus(error) === 403) return { ref, state: "unreadable" };
    throw error;
  }
}
