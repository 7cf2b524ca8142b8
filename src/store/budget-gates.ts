import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { parseStored } from "../shared/parse-stored.js";
import { budgetGateSchema, controlChannel, encodeControl } from "./control-channel.js";

/**
 * What a budget lets an account's agents take now. `tight`: at the rate it has spent lately the
 * account reaches its budget before its window ends, so its agents take only urgent and high
 * tasks. `spent`: the budget is used up, so they take nothing until enough spending leaves the
 * window (`until`).
 */
export interface BudgetGate {
  account: string;
  level: "ok" | "tight" | "spent";
  /** `spent`: when the window has rolled over enough for the account to work again. */
  until?: number;
  /** One sentence for tracking comments, the dashboard and logs. */
  message: string;
  /** When the app computed it. */
  at: number;
}

budgetGateSchema satisfies z.ZodType<BudgetGate>;

/**
 * A gate the app has not renewed for this long is ignored: the app that computes them (its
 * usage monitor, every `CCC_USAGE_CHECK_SECONDS`) is gone, and a stale "spent" must not hold
 * work back forever.
 */
export const BUDGET_GATE_MAX_AGE_MS = 10 * 60_000;

/** Each budgeted account's gate, written by the app's usage monitor and read by agents. */
export class BudgetGates {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
  ) {
    this.key = `${prefix}:budget-gates`;
  }

  /**
   * Replaces every account's gate with these: an account whose budget was removed has none.
   * Announced on the control channel too, so idle agents need not read the gates to see a change.
   */
  async replace(gates: readonly BudgetGate[]): Promise<void> {
    const multi = this.redis.multi().del(this.key);
    if (gates.length > 0) multi.hset(this.key, Object.fromEntries(gates.map((gate) => [gate.account, JSON.stringify(gate)])));
    multi.publish(controlChannel(this.prefix), encodeControl({ type: "budget-gates", gates: [...gates] }));
    await multi.exec();
  }

  /** The account's gate, unless it has none or the app stopped renewing it. */
  async get(account: string, now: number): Promise<BudgetGate | undefined> {
    const raw = await this.redis.hget(this.key, account);
    if (raw === null) return undefined;
    return liveGate(parseStored(budgetGateSchema, raw, `${this.key} ${account}`), now);
  }
}

/** The gate, unless the app stopped renewing it (`BUDGET_GATE_MAX_AGE_MS`). */
export function liveGate(gate: BudgetGate | undefined, now: number): BudgetGate | undefined {
  return gate && now - gate.at <= BUDGET_GATE_MAX_AGE_MS ? gate : undefined;
}
