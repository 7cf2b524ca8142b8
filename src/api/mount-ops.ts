import type { ApplicationFunction } from "probot";
import { ProbotOctokit } from "probot";
import type { AppEnv } from "../config/app-env.js";
import type { Tracing } from "../telemetry/start-tracing.js";
import { ClusterControl } from "../store/cluster-control.js";
import { AppMetrics } from "../ops/metrics/app-metrics.js";
import { githubMetricsPlugin } from "../ops/metrics/github-metrics-plugin.js";
import { githubTracingPlugin } from "../github/github-tracing-plugin.js";
import { instrumentWebhooks } from "../ops/metrics/instrument-webhooks.js";
import { parseBudgets } from "../config/parse-budgets.js";
import { UsageMonitor } from "../ops/usage/usage-monitor.js";
import { resolveApiAccess } from "./api-access.js";
import type { ApiDeps } from "./api-deps.js";
import { createOpsHandler } from "./create-ops-handler.js";

/** What the app hands mountOps: its stores and logger; mountOps builds the rest of ApiDeps. */
export type MountOpsDeps = Omit<ApiDeps, "control" | "usage" | "metrics" | "access" | "checkGitHub">;

/**
 * The app's operations side: /metrics, the control API and the dashboard on Probot's server,
 * webhook and GitHub API counters, and the usage monitor. Throws a ConfigError before
 * anything starts when the API would have to run without a token.
 */
export function mountOps(env: AppEnv, deps: MountOpsDeps, processEnv: NodeJS.ProcessEnv = process.env, tracing?: Pick<Tracing, "droppedSpans">) {
  // Without APP_ID Probot only serves its setup page, which loads none of this app.
  const access = processEnv.APP_ID ? resolveApiAccess({ token: env.CCC_API_TOKEN, allowNoToken: env.CCC_API_ALLOW_NO_TOKEN, host: env.HOST }) : undefined;
  const budgets = parseBudgets(env.CCC_BUDGETS);
  const usage = new UsageMonitor({
    redis: deps.redis,
    prefix: deps.prefix,
    budgets: budgets.ok ? budgets.budgets : [],
    log: deps.log.child({ component: "usage" }),
    onAlert: (alert) => metrics.usageAlerts.inc({ account: alert.account, level: alert.level }),
  });
  const metrics = new AppMetrics({ redis: deps.redis, prefix: deps.prefix, queues: deps.queues, usage }, Date.now, () => tracing?.droppedSpans() ?? 0);

  /** Loads `appFn`, then mounts the ops routes beside its webhook route. */
  const wrap =
    (appFn: ApplicationFunction): ApplicationFunction =>
    async (app, options) => {
      await appFn(app, options);
      instrumentWebhooks(app, metrics);
      if (!access) return;
      const control = new ClusterControl(deps.redis, deps.prefix);
      // No retries and a short timeout: a readiness probe must answer quickly.
      const checkGitHub = async () => void (await (await app.auth()).request("GET /app", { request: { retries: 0, signal: AbortSignal.timeout(5_000) } }));
      options.addHandler(createOpsHandler({ ...deps, control, usage, metrics, access, checkGitHub, traceUrl: env.CCC_TRACE_URL }));
      usage.start(env.CCC_USAGE_CHECK_SECONDS * 1000);
      if (access.kind === "open-loopback")
        deps.log.warn("the control API runs without a token (CCC_API_ALLOW_NO_TOKEN set to loopback-only): anyone on this host can steer the cluster");
    };

  return {
    wrap,
    /** For Probot's `run`: every GitHub client it makes counts its requests and traces each as a span; it logs through our redacting logger. */
    runOptions: { Octokit: ProbotOctokit.plugin(githubMetricsPlugin(metrics), githubTracingPlugin()), log: deps.log.child({ component: "probot" }) },
    stop: () => usage.stop(),
  };
}
