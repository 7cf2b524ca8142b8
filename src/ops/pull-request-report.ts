import type { PullRequestFate } from "../store/pull-request-fates.js";

/** How the pull requests of one specialty, agent or account (or the whole cluster) fared. */
export interface PullRequestFigures {
  merged: number;
  /** Closed without merging. */
  closed: number;
  /** merged / (merged + closed); null with neither. */
  mergeRate: number | null;
  /** Cost of every run and attempt behind the merged PRs, in USD. */
  mergedCostUsd: number;
  /** mergedCostUsd / merged; null with none merged. */
  costPerMergedUsd: number | null;
  /** From the PR's opening on GitHub to its merge: median and mean, in ms; null with none merged. */
  timeToMergeP50Ms: number | null;
  timeToMergeMeanMs: number | null;
  /** CI-fix and conflict runs per merged PR (of the merged PRs whose fate counted them); null with none. */
  ciFixRunsPerMerged: number | null;
  conflictRunsPerMerged: number | null;
  /** Share of the merged PRs nobody but the cluster pushed to; null with none counted. */
  mergedWithoutHumanCommitShare: number | null;
}

export interface PullRequestReport {
  /** Fates counted: the task retention's worth, at most PULL_REQUEST_FATES_KEPT. */
  total: PullRequestFigures;
  specialties: Array<PullRequestFigures & { specialty: string }>;
  agents: Array<PullRequestFigures & { agent: string }>;
  accounts: Array<PullRequestFigures & { account: string }>;
}

/** The numbers a team judges the cluster by, from the fates of its pull requests. Pure. */
export function pullRequestReport(fates: readonly PullRequestFate[]): PullRequestReport {
  const by = <K extends "specialty" | "agent" | "account">(key: K) =>
    [...groupBy(fates, (f) => f[key])]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, group]) => ({ [key]: name, ...figures(group) }) as PullRequestFigures & Record<K, string>);
  return { total: figures(fates), specialties: by("specialty"), agents: by("agent"), accounts: by("account") };
}

function figures(fates: readonly PullRequestFate[]): PullRequestFigures {
  const merged = fates.filter((f) => f.outcome === "merged");
  const closed = fates.length - merged.length;
  const mergedCostUsd = merged.reduce((sum, f) => sum + f.costUsd, 0);
  const waits = merged.map((f) => Math.max(0, f.at - f.openedAt)).sort((a, b) => a - b);
  return {
    merged: merged.length,
    closed,
    mergeRate: fates.length > 0 ? merged.length / fates.length : null,
    mergedCostUsd,
    costPerMergedUsd: merged.length > 0 ? mergedCostUsd / merged.length : null,
    timeToMergeP50Ms: waits.length > 0 ? median(waits) : null,
    timeToMergeMeanMs: waits.length > 0 ? waits.reduce((sum, w) => sum + w, 0) / waits.length : null,
    ...loopFigures(merged),
  };
}

/** What the PR-to-merge loop did for the merged PRs: fixes per PR, and how many needed no person's commit. */
function loopFigures(
  merged: readonly PullRequestFate[],
): Pick<PullRequestFigures, "ciFixRunsPerMerged" | "conflictRunsPerMerged" | "mergedWithoutHumanCommitShare"> {
  const counted = merged.filter((f) => f.ciFixRuns !== undefined);
  if (counted.length === 0) return { ciFixRunsPerMerged: null, conflictRunsPerMerged: null, mergedWithoutHumanCommitShare: null };
  const sum = (pick: (f: PullRequestFate) => number) => counted.reduce((total, f) => total + pick(f), 0);
  return {
    ciFixRunsPerMerged: sum((f) => f.ciFixRuns ?? 0) / counted.length,
    conflictRunsPerMerged: sum((f) => f.conflictRuns ?? 0) / counted.length,
    mergedWithoutHumanCommitShare: counted.filter((f) => !f.humanCommits).length / counted.length,
  };
}

/** The middle value of sorted numbers; the mean of the two middle ones for an even count. */
function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}
