import type { GitHubClient } from "../github/github-client.js";
import type { DependencySummary } from "../github/read-blockers.js";

/** What a handler knows about the issue a delivery is about, whatever the event. */
export interface IssueContext {
  octokit: GitHubClient;
  deliveryId: string;
  installationId: number;
  owner: string;
  repo: string;
  cloneUrl: string;
  defaultBranch: string;
  issue: {
    number: number;
    title: string;
    body: string | null;
    url: string;
    author: string;
    labels: string[];
    comments: number;
    /** GitHub's count of open issues blocking this one; absent where GitHub has no issue dependencies. */
    dependencySummary?: DependencySummary | undefined;
  };
  /** The GitHub login that labelled or commented. */
  actor: string;
}
