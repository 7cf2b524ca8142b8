/** Warn once this share of a budget is spent, whatever the trend. */
export const WARN_RATIO = 0.8;

/** Longest stretch of recent history the spending rate is fitted over. */
export const MAX_FIT_MS = 24 * 3_600_000;

export interface ForecastInput {
  /** Runs of this account with their cost; any order, older ones are ignored. */
  entries: ReadonlyArray<{ at: number; costUsd: number }>;
  budgetUsd: number;
  /** The rolling window the budget is over, e.g. 7 days. */
  windowMs: number;
  now: number;
  /** How far back the rate is fitted. @defaultValue min(windowMs, 24 h) */
  fitMs?: number;
}

export type BudgetLevel = "ok" | "warning" | "critical";

export interface BudgetForecast {
  /** Spent within the budget's window before `now`. */
  spentUsd: number;
  budgetUsd: number;
  usedRatio: number;
  /** Least-squares slope of cumulative cost over the fit window, USD per hour; 0 when flat. */
  rateUsdPerHour: number;
  /** When the budget is reached at that rate (epoch ms); `now` if already reached; null if never. */
  reachAt: number | null;
  /** `critical`: reached; `warning`: 80 % spent, or reached within a seventh of the window at this rate. */
  level: BudgetLevel;
}

/**
 * When an account reaches its budget if it keeps spending as it has lately. The rate is the
 * least-squares slope of cumulative cost against time over the fit window, with the window's
 * start (nothing spent yet) and `now` (all of it spent) as points too, so quiet hours since
 * the last run pull the rate down. Pure.
 */
export function forecastBudget(input: ForecastInput): BudgetForecast {
  const { now, budgetUsd, windowMs } = input;
  const fitMs = input.fitMs ?? Math.min(windowMs, MAX_FIT_MS);
  const inWindow = input.entries.filter((e) => e.at > now - windowMs && e.at <= now);
  const spentUsd = round(inWindow.reduce((sum, e) => sum + e.costUsd, 0));
  const usedRatio = budgetUsd > 0 ? spentUsd / budgetUsd : 1;

  const fitFrom = now - fitMs;
  const recent = input.entries.filter((e) => e.at > fitFrom && e.at <= now).sort((a, b) => a.at - b.at);
  const points: Array<[number, number]> = [[fitFrom, 0]];
  let cumulative = 0;
  for (const e of recent) {
    cumulative += e.costUsd;
    points.push([e.at, cumulative]);
  }
  points.push([now, cumulative]);
  const slopePerMs = recent.length > 0 ? Math.max(0, leastSquaresSlope(points)) : 0;
  const rateUsdPerHour = round(slopePerMs * 3_600_000);

  let reachAt: number | null;
  if (spentUsd >= budgetUsd) reachAt = now;
  else if (slopePerMs > 0) reachAt = Math.round(now + (budgetUsd - spentUsd) / slopePerMs);
  else reachAt = null;

  const level: BudgetLevel =
    spentUsd >= budgetUsd ? "critical" : usedRatio >= WARN_RATIO || (reachAt !== null && reachAt - now <= windowMs / 7) ? "warning" : "ok";
  return { spentUsd, budgetUsd, usedRatio: round(usedRatio), rateUsdPerHour, reachAt, level };
}

function leastSquaresSlope(points: ReadonlyArray<[number, number]>): number {
  // Centre x first: epoch milliseconds squared lose precision in doubles.
  const n = points.length;
  const meanX = points.reduce((s, [x]) => s + x, 0) / n;
  const meanY = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
