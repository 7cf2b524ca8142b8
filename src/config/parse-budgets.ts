/** The windows the usage monitor reports, and a budget may be set over. */
export const USAGE_WINDOWS = { "1h": 3_600_000, "5h": 5 * 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 } as const;
export type UsageWindow = keyof typeof USAGE_WINDOWS;

export function isUsageWindow(value: string): value is UsageWindow {
  return Object.hasOwn(USAGE_WINDOWS, value);
}

/** A spending limit for one Claude account, in USD over a rolling window. */
export interface Budget {
  account: string;
  usd: number;
  window: UsageWindow;
}

export type ParseBudgetsResult = { ok: true; budgets: Budget[] } | { ok: false; message: string };

/**
 * Parses `CCC_BUDGETS`: comma-separated `account=usd[/window]`, e.g. `team=50,ci=20/5h`.
 * The window is `5h`, `24h` or `7d` (default `7d`, the Claude plans' weekly cap). Pure.
 */
export function parseBudgets(text: string | undefined): ParseBudgetsResult {
  const budgets: Budget[] = [];
  for (const part of (text ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    const match = /^([A-Za-z0-9._@-]{1,100})=(\d+(?:\.\d+)?)(?:\/(\w+))?$/.exec(part);
    if (!match) return { ok: false, message: `"${part}" is not account=usd[/window], e.g. team=50 or team=20/5h` };
    const [, account, usd, window = "7d"] = match;
    if (!isUsageWindow(window) || window === "1h") return { ok: false, message: `"${part}": the window must be 5h, 24h or 7d` };
    if (Number(usd) <= 0) return { ok: false, message: `"${part}": the budget must be more than 0 USD` };
    if (budgets.some((b) => b.account === account)) return { ok: false, message: `account ${account} has two budgets` };
    budgets.push({ account: account!, usd: Number(usd), window });
  }
  return { ok: true, budgets };
}
