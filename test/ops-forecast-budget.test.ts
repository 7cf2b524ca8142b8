import { describe, expect, it } from "vitest";
import { forecastBudget } from "../src/ops/usage/forecast-budget.js";
import { parseBudgets } from "../src/config/parse-budgets.js";
import { usageSeries } from "../src/ops/usage/usage-series.js";
import { usageWindows } from "../src/ops/usage/usage-windows.js";
import type { UsageEntry } from "../src/store/usage-store.js";

const H = 3_600_000;
const NOW = Date.UTC(2026, 0, 10, 12);
const WEEK = 7 * 24 * H;

/** `n` runs of `usd` each, evenly spread over the `hours` before NOW. */
function steady(n: number, usd: number, hours: number) {
  return Array.from({ length: n }, (_, i) => ({ at: NOW - hours * H + ((i + 1) * hours * H) / n, costUsd: usd }));
}

describe("forecastBudget", () => {
  const cases: Array<{
    name: string;
    entries: Array<{ at: number; costUsd: number }>;
    budget: number;
    window?: number;
    expect: { level: string; reachInHours?: [number, number] | null; spent?: number };
  }> = [
    { name: "no runs: nothing spent, never reached", entries: [], budget: 50, expect: { level: "ok", reachInHours: null, spent: 0 } },
    // $1/h over the last 24 h, $24 spent of $100: at $1/h the last $76 take about 76 h (> 24 h = a seventh of a week).
    { name: "a steady $1/h reaches $100 about 76 h out", entries: steady(24, 1, 24), budget: 100, expect: { level: "ok", reachInHours: [70, 82], spent: 24 } },
    // $4/h: $96 spent of $100 is over 80 %: warning whatever the trend.
    { name: "80 % spent is a warning", entries: steady(24, 4, 24), budget: 120, expect: { level: "warning", spent: 96 } },
    // $2/h for 24 h = $48 of $60: reached in ~6 h, within a seventh of the week.
    {
      name: "reaching the budget within a seventh of the window is a warning",
      entries: steady(24, 2, 24),
      budget: 80,
      expect: { level: "warning", reachInHours: [10, 22] },
    },
    {
      name: "spent is at or over budget: critical, reached now",
      entries: steady(10, 6, 10),
      budget: 60,
      expect: { level: "critical", reachInHours: [0, 0], spent: 60 },
    },
    // All spending a day ago then silence: the fit over 24 h sees a low rate, nothing imminent.
    {
      name: "a burst long ago and quiet since fits a low rate",
      entries: [{ at: NOW - 23 * H, costUsd: 10 }],
      budget: 100,
      expect: { level: "ok", reachInHours: [100, 10_000] },
    },
    {
      name: "runs older than the window do not count as spent",
      entries: [{ at: NOW - 8 * 24 * H, costUsd: 500 }],
      budget: 100,
      expect: { level: "ok", spent: 0, reachInHours: null },
    },
    // A 5-hour budget: fitted over 5 h; $3 per hour for 4 h = $12 of $20: reached in ~2.7 h > 5h/7: ok.
    { name: "a 5 h budget fits over 5 h", entries: steady(4, 3, 4), budget: 20, window: 5 * H, expect: { level: "ok", reachInHours: [1.5, 4] } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = forecastBudget({ entries: c.entries, budgetUsd: c.budget, windowMs: c.window ?? WEEK, now: NOW });
      expect(f.level).toBe(c.expect.level);
      if (c.expect.spent !== undefined) expect(f.spentUsd).toBeCloseTo(c.expect.spent, 6);
      if (c.expect.reachInHours === null) expect(f.reachAt).toBeNull();
      else if (c.expect.reachInHours) {
        const hours = (f.reachAt! - NOW) / H;
        expect(hours).toBeGreaterThanOrEqual(c.expect.reachInHours[0]);
        expect(hours).toBeLessThanOrEqual(c.expect.reachInHours[1]);
      }
    });
  }

  it("the rate is the least-squares slope: a steady $1/h fits close to $1/h", () => {
    expect(forecastBudget({ entries: steady(48, 0.5, 24), budgetUsd: 1000, windowMs: WEEK, now: NOW }).rateUsdPerHour).toBeCloseTo(1, 1);
  });
});

describe("parseBudgets", () => {
  it.each([
    ["", { ok: true, budgets: [] }],
    ["team=50", { ok: true, budgets: [{ account: "team", usd: 50, window: "7d" }] }],
    [
      "team=50, ci=12.5/5h",
      {
        ok: true,
        budgets: [
          { account: "team", usd: 50, window: "7d" },
          { account: "ci", usd: 12.5, window: "5h" },
        ],
      },
    ],
  ])("%j parses", (text, expected) => expect(parseBudgets(text)).toEqual(expected));
  it.each(["team", "team=lots", "team=5/1h", "team=5/2w", "team=0", "a=1,a=2"])("%j is refused with a message", (text) => {
    const parsed = parseBudgets(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.message).toMatch(/\S/);
  });
});

describe("usage windows and series", () => {
  const entry = (hoursAgo: number, over: Partial<UsageEntry> = {}): UsageEntry => ({
    at: NOW - hoursAgo * H,
    agent: "pc-1",
    account: "team",
    taskId: "o/r#1",
    costUsd: 1,
    turns: 3,
    durationMs: 1000,
    outcome: "success",
    ...over,
  });

  it("sums cost, turns, runs, distinct tasks and tokens per account and agent for each window", () => {
    const report = usageWindows(
      [
        entry(0.5, { inputTokens: 100, outputTokens: 20 }),
        entry(3, { taskId: "o/r#2" }),
        entry(20, { agent: "pc-2", outcome: "usage-limit" }),
        entry(100, { account: "other", agent: "pc-3" }),
      ],
      NOW,
    );
    const team = report.accounts.find((a) => a.account === "team")!.windows;
    expect(team["1h"]).toMatchObject({ costUsd: 1, runs: 1, turns: 3, tasks: 1, tokens: 120 });
    expect(team["5h"]).toMatchObject({ costUsd: 2, runs: 2, tasks: 2 });
    expect(team["24h"]).toMatchObject({ costUsd: 3, runs: 3, tasks: 2, usageLimited: 1 });
    expect(report.accounts.find((a) => a.account === "other")!.windows["24h"].runs).toBe(0);
    expect(report.accounts.find((a) => a.account === "other")!.windows["7d"].runs).toBe(1);
    expect(report.agents.map((a) => a.agent)).toEqual(["pc-1", "pc-2", "pc-3"]);
  });

  it("puts each run's cost in its hour bucket", () => {
    const series = usageSeries([entry(0.5, { costUsd: 2 }), entry(0.2, { costUsd: 1 }), entry(5.5)], { to: NOW, spanMs: 24 * H, bucketMs: H });
    expect(series.buckets).toHaveLength(24);
    expect(series.accounts[0]!.costUsd[23]).toBe(3);
    expect(series.accounts[0]!.costUsd[18]).toBe(1);
    expect(series.accounts[0]!.runs.reduce((a, b) => a + b, 0)).toBe(3);
  });
});
