import type { ProbotOctokit } from "probot";
import type { AppMetrics } from "./app-metrics.js";

type OctokitPlugin = Parameters<typeof ProbotOctokit.plugin>[0];
type Headers = Record<string, string | number | undefined>;

/**
 * An Octokit plugin that counts every GitHub API request and keeps the last remaining rate
 * limit per resource. Given to Probot as its Octokit class, so the reporter's installation
 * clients, the handlers' clients and the app's JWT client are all counted.
 */
export function githubMetricsPlugin(metrics: AppMetrics): OctokitPlugin {
  return (octokit) => {
    const observe = (method: string, status: string, headers: Headers | undefined) => {
      metrics.githubRequests.inc({ method, status });
      const remaining = headers?.["x-ratelimit-remaining"];
      if (remaining !== undefined && remaining !== "") {
        metrics.githubRateLimitRemaining.set({ resource: String(headers?.["x-ratelimit-resource"] ?? "core") }, Number(remaining));
      }
    };
    octokit.hook.after("request", (response, options) => {
      observe(String(options.method), String(response.status), response.headers as Headers);
    });
    octokit.hook.error("request", (error, options) => {
      const failure = error as { status?: number; response?: { headers?: Headers } };
      observe(String(options.method), failure.status !== undefined ? String(failure.status) : "error", failure.response?.headers);
      throw error;
    });
  };
}
