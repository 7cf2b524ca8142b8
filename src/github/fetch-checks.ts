import type { GitHubClient } from "./github-client.js";
import type { CheckRunState, CommitStatusState } from "./judge-checks.js";

export interface CommitRef {
  owner: string;
  repo: string;
  sha: string;
}

/** Most check runs and statuses read per commit: a repository with more is not waited on for the rest. */
const PER_PAGE = 100;

/**
 * Every check of one commit: its check runs (latest per name, REST `checks.listForRef`) and its
 * commit statuses (the combined status, one per context). Two requests; nothing is written.
 */
export async function fetchChecks(octokit: GitHubClient, ref: CommitRef): Promise<{ runs: CheckRunState[]; statuses: CommitStatusState[] }> {
  const params = { owner: ref.owner, repo: ref.repo, ref: ref.sha, per_page: PER_PAGE };
  const [runs, combined] = await Promise.all([
    octokit.rest.checks.listForRef({ ...params, filter: "latest" }),
    octokit.rest.repos.getCombinedStatusForRef(params),
  ]);
  return {
    runs: runs.data.check_runs.map((run) => ({
      id: run.id,
      name: run.name,
      status: run.status,
      conclusion: run.conclusion ?? null,
      ...(run.html_url ? { url: run.html_url } : {}),
      ...(run.app?.slug ? { appSlug: run.app.slug } : {}),
      output: {
        ...(run.output.title ? { title: run.output.title } : {}),
        ...(run.output.summary ? { summary: run.output.summary } : {}),
        ...(run.output.text ? { text: run.output.text } : {}),
      },
    })),
    statuses: combined.data.statuses.map((status) => ({
      context: status.context,
      state: status.state,
      ...(status.description ? { description: status.description } : {}),
      ...(status.target_url ? { url: status.target_url } : {}),
    })),
  };
}
