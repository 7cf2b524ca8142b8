import type { RedisClient } from "../shared/redis-client.js";
import { accountPauseSchema, controlChannel, encodeControl } from "./control-channel.js";
import { parseStored } from "../shared/parse-stored.js";

/** Why and until when every agent logged in to one Claude account stays idle. */
export interface AccountPause {
  account: string;
  until: number;
  /** The agent that hit the limit, and what the CLI said. */
  agent: string;
  message: string;
  /** True when the CLI named no reset time and `until` is a backoff guess to be probed. */
  guessed: boolean;
}

export interface AccountPausedMessage {
  type: "account-paused";
  pause: AccountPause;
}

/** Backoff for a usage limit without a reset time: 1 min, 2, 4, … up to 1 h. */
export function usageBackoffMs(consecutive: number): number {
  return Math.min(60 * 60_000, 60_000 * 2 ** Math.max(0, consecutive));
}

/**
 * The usage limit belongs to the Claude account, not to one machine: the pause is kept in
 * Redis under the account and pushed to every agent, so agents on the same account stop
 * together while agents on other accounts keep working.
 */
export class AccountPauses {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
  ) {}

  private key(account: string): string {
    return `${this.prefix}:account-pause:${account}`;
  }

  private strikesKey(account: string): string {
    return `${this.prefix}:account-strikes:${account}`;
  }

  async get(account: string): Promise<AccountPause | undefined> {
    const raw = await this.redis.get(this.key(account));
    return raw ? parseStored(accountPauseSchema, raw, this.key(account)) : undefined;
  }

  /**
   * Records a hit of the limit. With a known reset time the pause ends then; without one it
   * backs off exponentially with each consecutive hit.
   */
  async pause(input: { account: string; agent: string; message: string; resetAt?: number; now: number }): Promise<AccountPause> {
    const strikes = await this.redis.incr(this.strikesKey(input.account));
    await this.redis.expire(this.strikesKey(input.account), 86_400);
    const guessed = input.resetAt === undefined || input.resetAt <= input.now;
    const until = guessed ? input.now + usageBackoffMs(strikes - 1) : input.resetAt!;
    const pause: AccountPause = { account: input.account, until, agent: input.agent, message: input.message, guessed };
    const message: AccountPausedMessage = { type: "account-paused", pause };
    const ttlMs = Math.max(1_000, until - input.now + 60 * 60_000);
    await this.redis
      .multi()
      .set(this.key(input.account), JSON.stringify(pause), "PX", ttlMs)
      .publish(controlChannel(this.prefix), encodeControl(message))
      .exec();
    return pause;
  }

  /** A run went through: the account is usable again and the backoff starts over. */
  async clear(account: string): Promise<void> {
    await this.redis.del(this.key(account), this.strikesKey(account));
  }
}
