import type { ProbotOctokit } from "probot";

/** The authenticated Octokit Probot hands a handler (installation token, retries, throttling). */
export type GitHubClient = InstanceType<typeof ProbotOctokit>;
