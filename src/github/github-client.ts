import type { ProbotOctokit } from "probot";

/** The Octokit Probot hands out per installation; tests build one with a fixed token. */
export type GitHubClient = InstanceType<typeof ProbotOctokit>;

/** Resolves the installation's client; the app passes `(id) => app.auth(id)`. */
export type GetOctokit = (installationId: number) => Promise<GitHubClient>;
