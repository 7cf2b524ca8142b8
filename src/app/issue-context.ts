import type { GitHubClient } from "../github/github-client.js";

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
  };
  /** The GitHub login that labelled or commented. */
  actor: string;
}
