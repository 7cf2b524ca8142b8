import type { RedisClient } from "../../shared/redis-client.js";
import { z } from "zod";
import { parseStored } from "../../shared/parse-stored.js";
import type { BudgetLevel } from "./forecast-budget.js";

/** A budget crossed a level: shown on the dashboard, logged, counted in /metrics. */
export interface UsageAlert {
  at: number;
  account: string;
  level: Exclude<BudgetLevel, "ok">;
  message: string;
}

const usageAlertSchema = z.object({
  at: z.number(),
  account: z.string(),
  level: z.enum(["warning", "critical"]),
  message: z.string(),
}) satisfies z.ZodType<UsageAlert>;

const KEEP = 100;
const RANK: Record<BudgetLevel, number> = { ok: 0, warning: 1, critical: 2 };

/**
 * Budget levels per account and the recent alerts, in Redis. The level is swapped with
 * GETSET, so when several app replicas check at once exactly one sees the change and raises
 * the alert.
 */
export class UsageAlerts {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
  ) {}

  /** Records the account's level; returns an alert when it rose since the last check. */
  async observe(account: string, level: BudgetLevel, message: string, at: number): Promise<UsageAlert | undefined> {
    const stored = await this.redis.getset(`${this.prefix}:usage:level:${account}`, level);
    // A plain string, not JSON: anything but a known level (none yet, say) ranks as `ok`.
    const known = z.enum(["ok", "warning", "critical"]).safeParse(stored);
    const previous = known.success ? RANK[known.data] : 0;
    if (level === "ok" || RANK[level] <= previous) return undefined;
    const alert: UsageAlert = { at, account, level, message };
    await this.redis
      .multi()
      .lpush(this.listKey, JSON.stringify(alert))
      .ltrim(this.listKey, 0, KEEP - 1)
      .exec();
    return alert;
  }

  /** Newest first. */
  async recent(limit = 20): Promise<UsageAlert[]> {
    const raw = await this.redis.lrange(this.listKey, 0, limit - 1);
    return raw.map((r) => parseStored(usageAlertSchema, r, this.listKey));
  }

  private get listKey(): string {
    return `${this.prefix}:usage:alerts`;
  }
}
