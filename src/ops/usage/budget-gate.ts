import type { Budget } from "../../config/parse-budgets.js";
import { USAGE_WINDOWS } from "../../config/parse-budgets.js";
import type { BudgetGate } from "../../store/budget-gates.js";
import type { BudgetForecast } from "./forecast-budget.js";

/**
 * What an account's budget lets its agents take now, from its forecast. Pure.
 * - `spent`: the window holds the whole budget; nothing starts until the oldest spending that
 *   keeps it there has left the window.
 * - `tight`: at the recent rate the budget is reached within one window from now; only urgent
 *   and high tasks start, so the rest of the budget goes to what matters most.
 */
export function budgetGate(budget: Budget, forecast: BudgetForecast, entries: ReadonlyArray<{ at: number; costUsd: number }>, now: number): BudgetGate {
  const windowMs = USAGE_WINDOWS[budget.window];
  const spent = `$${forecast.spentUsd.toFixed(2)} of its $${budget.usd} budget per ${budget.window}`;
  if (forecast.spentUsd >= budget.usd) {
    const until = rollsOverAt(entries, budget.usd, windowMs, now);
    return {
      account: budget.account,
      level: "spent",
      until,
      message: `account \`${budget.account}\` has spent ${spent}: its agents take no task until ${new Date(until).toISOString()}, when older spending leaves the window (raise CCC_BUDGETS to go on now)`,
      at: now,
    };
  }
  if (forecast.reachAt !== null && forecast.reachAt - now < windowMs) {
    return {
      account: budget.account,
      level: "tight",
      message: `account \`${budget.account}\` has spent ${spent} and at $${forecast.rateUsdPerHour.toFixed(2)}/h reaches it at ${new Date(forecast.reachAt).toISOString()}: its agents take only urgent and high tasks (\`/claude run priority:high\` raises a task; raising CCC_BUDGETS lifts the limit)`,
      at: now,
    };
  }
  return { account: budget.account, level: "ok", message: `account \`${budget.account}\` has spent ${spent}`, at: now };
}

/** When the spending inside the window first drops below the budget as entries age out of it. */
function rollsOverAt(entries: ReadonlyArray<{ at: number; costUsd: number }>, budgetUsd: number, windowMs: number, now: number): number {
  const inWindow = entries.filter((e) => e.at > now - windowMs && e.at <= now).sort((a, b) => a.at - b.at);
  let total = inWindow.reduce((sum, e) => sum + e.costUsd, 0);
  for (const entry of inWindow) {
    total -= entry.costUsd;
    if (total < budgetUsd) return entry.at + windowMs + 1;
  }
  return now;
}
