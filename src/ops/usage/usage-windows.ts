import type { UsageEntry } from "../../store/usage-store.js";
import { USAGE_WINDOWS, type UsageWindow } from "../../config/parse-budgets.js";

/** What one account or agent used within one window. */
export interface UsageTotals {
  costUsd: number;
  turns: number;
  /** Claude runs (attempts). */
  runs: number;
  /** Distinct tasks those runs worked on. */
  tasks: number;
  /** Input + output tokens, where agents report them. */
  tokens: number;
  /** Runs that ended on a usage limit. */
  usageLimited: number;
  /** Runs that found the Claude session expired. */
  sessionExpired: number;
}

export type WindowedTotals = Record<UsageWindow, UsageTotals>;

export interface UsageWindows {
  accounts: Array<{ account: string; windows: WindowedTotals }>;
  agents: Array<{ agent: string; account: string; windows: WindowedTotals }>;
}

const WINDOW_NAMES = Object.keys(USAGE_WINDOWS) as UsageWindow[];

function emptyTotals(): UsageTotals {
  return { costUsd: 0, turns: 0, runs: 0, tasks: 0, tokens: 0, usageLimited: 0, sessionExpired: 0 };
}

/**
 * Sums runs per account and per agent over the last 1 h, 5 h, 24 h and 7 d before `now`. Pure.
 */
export function usageWindows(entries: readonly UsageEntry[], now: number): UsageWindows {
  const accounts = new Map<string, Accumulator>();
  const agents = new Map<string, Accumulator & { account: string }>();
  for (const entry of entries) {
    const age = now - entry.at;
    if (age < 0) continue;
    const account = accounts.get(entry.account) ?? new Accumulator();
    accounts.set(entry.account, account);
    const agent = agents.get(entry.agent) ?? Object.assign(new Accumulator(), { account: entry.account });
    agents.set(entry.agent, agent);
    for (const window of WINDOW_NAMES) {
      if (age > USAGE_WINDOWS[window]) continue;
      account.add(window, entry);
      agent.add(window, entry);
    }
  }
  const byName = <T>(a: [string, T], b: [string, T]) => a[0].localeCompare(b[0]);
  return {
    accounts: [...accounts].sort(byName).map(([account, acc]) => ({ account, windows: acc.totals() })),
    agents: [...agents].sort(byName).map(([agent, acc]) => ({ agent, account: acc.account, windows: acc.totals() })),
  };
}

class Accumulator {
  private readonly sums = Object.fromEntries(WINDOW_NAMES.map((w) => [w, emptyTotals()])) as WindowedTotals;
  private readonly taskIds = Object.fromEntries(WINDOW_NAMES.map((w) => [w, new Set<string>()])) as Record<UsageWindow, Set<string>>;

  add(window: UsageWindow, entry: UsageEntry): void {
    const t = this.sums[window];
    t.costUsd += entry.costUsd;
    t.turns += entry.turns;
    t.runs += 1;
    t.tokens += (entry.inputTokens ?? 0) + (entry.outputTokens ?? 0);
    if (entry.outcome === "usage-limit") t.usageLimited += 1;
    if (entry.outcome === "session-expired") t.sessionExpired += 1;
    this.taskIds[window].add(entry.taskId);
  }

  totals(): WindowedTotals {
    for (const w of WINDOW_NAMES) {
      this.sums[w].tasks = this.taskIds[w].size;
      this.sums[w].costUsd = Math.round(this.sums[w].costUsd * 1e6) / 1e6;
    }
    return this.sums;
  }
}
