import type { Budget } from "../config/parse-budgets.js";
import { UsageMonitor } from "../ops/usage/usage-monitor.js";
import { pullRequestReport, type PullRequestFigures, type PullRequestReport } from "../ops/pull-request-report.js";
import { PullRequestFates } from "../store/pull-request-fates.js";
import type { ClusterDeps } from "./cluster-commands.js";
import { ExitCode } from "./exit-code.js";
import { table } from "./output.js";

const usd = (n: number) => `$${n.toFixed(2)}`;

/**
 * `ccc usage`: Claude cost, turns, runs and tasks per account and agent; budgets from
 * CCC_BUDGETS; merge rate, cost per merged PR and time to merge per specialty, agent and account.
 */
export async function usageCommand(deps: ClusterDeps, budgets: readonly Budget[]): Promise<ExitCode> {
  const [report, fates] = await Promise.all([
    new UsageMonitor({ redis: deps.redis, prefix: deps.prefix, budgets }).report(),
    new PullRequestFates(deps.redis, deps.prefix).list(),
  ]);
  const pullRequests = pullRequestReport(fates);
  if (deps.json) {
    deps.output.out(JSON.stringify({ ...report, pullRequests }, null, 2));
    return ExitCode.ok;
  }
  if (report.accounts.length === 0) deps.output.out("No Claude runs in the last 7 days.");
  else {
    const rows = (name: string, w: (typeof report.accounts)[number]["windows"]) => [
      name,
      usd(w["1h"].costUsd),
      usd(w["5h"].costUsd),
      usd(w["24h"].costUsd),
      usd(w["7d"].costUsd),
      String(w["24h"].turns),
      String(w["24h"].tasks),
      String(w["24h"].tokens || "-"),
    ];
    const headers = ["COST 1H", "5H", "24H", "7D", "TURNS 24H", "TASKS 24H", "TOKENS 24H"];
    deps.output.out(
      table(
        ["ACCOUNT", ...headers],
        report.accounts.map((a) => rows(a.account, a.windows)),
      ),
    );
    deps.output.out("");
    deps.output.out(
      table(
        ["AGENT", ...headers],
        report.agents.map((a) => rows(a.agent, a.windows)),
      ),
    );
  }
  if (report.resumes.resumedRuns > 0) {
    const r = report.resumes;
    deps.output.out("");
    const compared =
      r.compared > 0
        ? `saved ${r.savedInputTokens} input and ${r.savedOutputTokens} output tokens against their tasks' first attempts (${r.compared} compared: ${r.resumedInputTokens} input tokens instead of ${r.firstAttemptInputTokens})`
        : "none could be compared: their tasks' first attempts reported no tokens";
    deps.output.out(`RESUMED SESSIONS 7D: ${r.resumedRuns} ${r.resumedRuns === 1 ? "run" : "runs"}; ${compared}`);
  }
  if (report.budgets.length > 0) {
    deps.output.out("");
    deps.output.out(
      table(
        ["BUDGET", "WINDOW", "SPENT", "LIMIT", "RATE", "REACHED AT", "LEVEL"],
        report.budgets.map((b) => [
          b.account,
          b.window,
          usd(b.forecast.spentUsd),
          usd(b.usd),
          `${usd(b.forecast.rateUsdPerHour)}/h`,
          b.forecast.reachAt ? new Date(b.forecast.reachAt).toISOString() : "never at this rate",
          b.forecast.level,
        ]),
      ),
    );
  }
  deps.output.out("");
  pullRequestTables(deps, pullRequests);
  return ExitCode.ok;
}

/** One table per grouping; rows only for groups with a merged or closed pull request. */
function pullRequestTables(deps: ClusterDeps, report: PullRequestReport): void {
  if (report.total.merged + report.total.closed === 0) {
    deps.output.out("No pull request merged or closed yet.");
    return;
  }
  const cells = (f: PullRequestFigures) => [
    String(f.merged),
    String(f.closed),
    f.mergeRate === null ? "-" : `${Math.round(f.mergeRate * 100)}%`,
    f.costPerMergedUsd === null ? "-" : usd(f.costPerMergedUsd),
    f.timeToMergeP50Ms === null ? "-" : hours(f.timeToMergeP50Ms),
    f.timeToMergeMeanMs === null ? "-" : hours(f.timeToMergeMeanMs),
  ];
  const headers = ["MERGED", "CLOSED", "MERGE RATE", "COST/MERGED", "TO MERGE P50", "MEAN"];
  const groups = [
    ["SPECIALTY", report.specialties.map((r) => [r.specialty, ...cells(r)])],
    ["AGENT", report.agents.map((r) => [r.agent, ...cells(r)])],
    ["ACCOUNT", report.accounts.map((r) => [r.account, ...cells(r)])],
  ] as const;
  groups.forEach(([name, rows], i) => {
    if (i > 0) deps.output.out("");
    deps.output.out(table([`PULL REQUESTS BY ${name}`, ...headers], [...rows, ["all", ...cells(report.total)]]));
  });
}

/** A time to merge: minutes under two hours, then hours with one decimal. */
function hours(ms: number): string {
  return ms < 7_200_000 ? `${Math.round(ms / 60_000)}m` : `${(ms / 3_600_000).toFixed(1)}h`;
}
