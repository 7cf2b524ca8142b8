import type { GitHubClient } from "../github/github-client.js";

const done = new WeakSet<GitHubClient>();

/**
 * Turns Octokit's own retries off for every request of this client. The events queue retries
 * the whole event instead, with backoff and without limit while GitHub is down. Octokit's
 * retries (after 1 s, 4 s and 9 s) would hold the task lock and a worker slot meanwhile, and
 * multiply with the queue's.
 */
export function withoutRequestRetries(octokit: GitHubClient): GitHubClient {
  if (done.has(octokit)) return octokit;
  done.add(octokit);
  // plugin-retry reads `request.retries` of the options each request goes out with.
  octokit.hook.before("request", (options) => {
    Object.assign(options, { request: { ...options.request, retries: 0 } });
  });
  return octokit;
}
