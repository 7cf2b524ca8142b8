import type { UsageEntry } from "../../store/usage-store.js";

export interface UsageSeries {
  /** Start of each bucket, epoch ms, oldest first. */
  buckets: number[];
  bucketMs: number;
  /** Cost and runs per bucket for each account. */
  accounts: Array<{ account: string; costUsd: number[]; runs: number[] }>;
}

/** Cost per account in equal time buckets ending at `to`, for the dashboard's chart. Pure. */
export function usageSeries(entries: readonly UsageEntry[], options: { to: number; spanMs: number; bucketMs: number }): UsageSeries {
  const count = Math.max(1, Math.ceil(options.spanMs / options.bucketMs));
  const start = options.to - count * options.bucketMs;
  const buckets = Array.from({ length: count }, (_, i) => start + i * options.bucketMs);
  const accounts = new Map<string, { costUsd: number[]; runs: number[] }>();
  for (const entry of entries) {
    const index = Math.floor((entry.at - start) / options.bucketMs);
    if (index < 0 || index >= count) continue;
    let series = accounts.get(entry.account);
    if (!series) {
      series = { costUsd: new Array<number>(count).fill(0), runs: new Array<number>(count).fill(0) };
      accounts.set(entry.account, series);
    }
    series.costUsd[index] = Math.round((series.costUsd[index]! + entry.costUsd) * 1e6) / 1e6;
    series.runs[index]! += 1;
  }
  return {
    buckets,
    bucketMs: options.bucketMs,
    accounts: [...accounts].sort((a, b) => a[0].localeCompare(b[0])).map(([account, s]) => ({ account, ...s })),
  };
}
