import type { RedisClient } from "../../shared/redis-client.js";
import { silentLogger, type Logger } from "../../shared/logger.js";
import { UsageStore } from "../../store/usage-store.js";
import { forecastBudget, type BudgetForecast } from "./forecast-budget.js";
import { budgetGate } from "./budget-gate.js";
import { BudgetGates, type BudgetGate } from "../../store/budget-gates.js";
import { USAGE_WINDOWS, type Budget } from "../../config/parse-budgets.js";
import { UsageAlerts, type UsageAlert } from "./usage-alerts.js";
import { resumeSavings, type ResumeSavings } from "./resume-savings.js";
import { usageSeries, type UsageSeries } from "./usage-series.js";
import { usageWindows, type UsageWindows } from "./usage-windows.js";

export interface UsageReport extends UsageWindows {
  generatedAt: number;
  /** Each budget with its forecast and what it lets the account's agents take now. */
  budgets: Array<Budget & { forecast: BudgetForecast; gate: BudgetGate }>;
  alerts: UsageAlert[];
  /** Tokens resumed sessions saved against their tasks' first attempts, over the last 7 days. */
  resumes: ResumeSavings;
}

export interface UsageMonitorOptions {
  redis: RedisClient;
  /** @defaultValue "ccc" */
  prefix?: string;
  budgets: readonly Budget[];
  /** @defaultValue silentLogger */
  log?: Logger;
  /** @defaultValue Date.now */
  now?: () => number;
  /** Called once per raised alert (the app counts them in /metrics). */
  onAlert?: (alert: UsageAlert) => void;
}

/**
 * Claude usage per account and agent over 1 h, 5 h, 24 h and 7 d, and each budgeted
 * account's forecast. `check()` raises an alert when an account's level rises; the app runs
 * it every minute.
 */
export class UsageMonitor {
  private readonly store: UsageStore;
  private readonly alerts: UsageAlerts;
  private readonly gates: BudgetGates;
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: UsageMonitorOptions) {
    this.store = new UsageStore(options.redis, options.prefix);
    this.alerts = new UsageAlerts(options.redis, options.prefix);
    this.gates = new BudgetGates(options.redis, options.prefix);
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  get budgets(): readonly Budget[] {
    return this.options.budgets;
  }

  async report(): Promise<UsageReport> {
    const now = this.now();
    const entries = await this.store.range(now - USAGE_WINDOWS["7d"], now);
    const budgets = this.options.budgets.map((budget) => {
      const own = entries.filter((e) => e.account === budget.account);
      const forecast = forecastBudget({ entries: own, budgetUsd: budget.usd, windowMs: USAGE_WINDOWS[budget.window], now });
      return { ...budget, forecast, gate: budgetGate(budget, forecast, own, now) };
    });
    return { generatedAt: now, ...usageWindows(entries, now), budgets, alerts: await this.alerts.recent(), resumes: resumeSavings(entries) };
  }

  async series(spanMs: number = USAGE_WINDOWS["24h"], bucketMs = 3_600_000): Promise<UsageSeries> {
    const now = this.now();
    return usageSeries(await this.store.range(now - spanMs, now), { to: now, spanMs, bucketMs });
  }

  /**
   * Publishes every budget's gate for the agents (an account near or at its budget takes only
   * urgent and high tasks, or none), and raises alerts for the budgets whose level rose.
   */
  async check(): Promise<UsageAlert[]> {
    const report = await this.report();
    await this.gates.replace(report.budgets.map((budget) => budget.gate));
    const raised: UsageAlert[] = [];
    for (const budget of report.budgets) {
      const { forecast } = budget;
      const alert = await this.alerts.observe(budget.account, forecast.level, describe(budget), report.generatedAt);
      if (!alert) continue;
      raised.push(alert);
      this.log.warn({ alert: "usage-budget", account: alert.account, ...forecast }, alert.message);
      this.options.onAlert?.(alert);
    }
    return raised;
  }

  start(intervalMs = 60_000): void {
    const tick = () => void this.check().catch((error: Error) => this.log.warn({ err: error }, "usage check failed"));
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function describe(budget: Budget & { forecast: BudgetForecast }): string {
  const { forecast } = budget;
  const spent = `${budget.account} has spent $${forecast.spentUsd.toFixed(2)} of its $${budget.usd} budget per ${budget.window}`;
  if (forecast.level === "critical") return `${spent}: the budget is used up.`;
  const when =
    forecast.reachAt !== null ? `; at $${forecast.rateUsdPerHour.toFixed(2)}/h it reaches the budget at ${new Date(forecast.reachAt).toISOString()}` : "";
  return `${spent} (${Math.round(forecast.usedRatio * 100)} %)${when}.`;
}
