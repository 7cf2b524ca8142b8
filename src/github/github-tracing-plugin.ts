import { context, SpanKind, trace } from "@opentelemetry/api";
import type { ProbotOctokit } from "probot";
import { withSpan } from "../telemetry/tracer.js";

type OctokitPlugin = Parameters<typeof ProbotOctokit.plugin>[0];

/**
 * An Octokit plugin that makes each GitHub API request a CLIENT span, a child of whatever span
 * is active (a webhook's handler, the reporter's event): the method, the route template
 * (`/repos/{owner}/{repo}/pulls`, never the filled-in path or a body) and the status code. A
 * request that fails is an ERROR span with its status. A request made outside any recording
 * span (tracing off; the reconciler's and the CI watch's polling) makes none: a trace of one
 * GitHub call is noise.
 */
export function githubTracingPlugin(): OctokitPlugin {
  return (octokit) => {
    octokit.hook.wrap("request", async (request, options) => {
      if (!trace.getSpan(context.active())?.isRecording()) return request(options);
      const method = String(options.method);
      const route = String(options.url);
      return withSpan(
        `GitHub ${method} ${route}`,
        { kind: SpanKind.CLIENT, attributes: { "http.request.method": method, "url.template": route, "server.address": serverAddress(options.baseUrl) } },
        async (span) => {
          try {
            const response = await request(options);
            span.setAttribute("http.response.status_code", response.status);
            return response;
          } catch (error) {
            const status = (error as { status?: unknown }).status;
            if (typeof status === "number") span.setAttribute("http.response.status_code", status);
            throw error;
          }
        },
      );
    });
  };
}

function serverAddress(baseUrl: unknown): string {
  try {
    return new URL(String(baseUrl)).hostname;
  } catch {
    return "api.github.com";
  }
}
