import { Octokit } from "@octokit/rest";
import type { GitHubClient } from "../../../src/github/github-client.js";
import { githubTracingPlugin } from "../../../src/github/github-tracing-plugin.js";

// Each GitHub call of the job is a span under the job's (nothing when tracing is off).
const TracedOctokit = Octokit.plugin(githubTracingPlugin() as unknown as Parameters<typeof Octokit.plugin>[0]);

/**
 * An Octokit for the job's token. The reporter's functions are typed for Probot's Octokit,
 * but use only `rest.*` and `paginate`, which @octokit/rest provides with the same shapes;
 * the action does not bundle Probot to get the extra plugins it would never call.
 */
export function restClient(token: string, baseUrl: string): GitHubClient {
  const octokit = new TracedOctokit({ auth: token, baseUrl: baseUrl.replace(/\/$/, ""), userAgent: "claude-code-cluster-action" });
  return octokit as unknown as GitHubClient;
}
