import type { ClaudeFailure } from "../claude/classify-failure.js";
import type { Logger } from "../shared/logger.js";
import type { AccountPause, AccountPauses } from "../store/account-pauses.js";
import type { LoginProbe } from "./probe-login.js";

export interface AccountLimitOptions {
  pauses: AccountPauses;
  account: string;
  agent: string;
  /** Wait after the reset before working again: reset times are rounded. */
  marginMs: number;
  now: () => number;
  log: Logger;
  /** The cheap one-word run that tells whether the limit is over. */
  probe: () => Promise<LoginProbe>;
  /** Called whenever the agent may or may not work because of this. */
  onChange: () => void;
}

/**
 * One agent's view of its Claude account's usage limit: paused until the reset plus a
 * margin, learnt from its own runs, from other agents' messages and from Redis.
 */
export class AccountLimit {
  private pause: AccountPause | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AccountLimitOptions) {}

  /** Epoch ms until which this agent takes no work, if the account is paused. */
  get until(): number | undefined {
    return this.pause?.until;
  }

  /** A run hit the limit: pause the whole account. Returns the reset time. */
  async hit(failure: ClaudeFailure): Promise<number> {
    const { account, agent, now } = this.options;
    const pause = await this.options.pauses.pause({
      account,
      agent,
      message: failure.message,
      ...(failure.resetAt !== undefined ? { resetAt: failure.resetAt } : {}),
      now: now(),
    });
    this.apply(pause);
    return pause.until;
  }

  /** Adopts the account's pause as stored or announced, unless it is the one already held. */
  apply(pause: AccountPause | undefined): void {
    const { marginMs, now, log } = this.options;
    if (pause && this.pause?.until === pause.until + marginMs) return;
    clearTimeout(this.timer);
    if (!pause || pause.until + marginMs <= now()) {
      this.pause = undefined;
      return this.options.onChange();
    }
    const resumeAt = pause.until + marginMs;
    this.pause = { ...pause, until: resumeAt };
    log.warn({ account: pause.account, until: new Date(pause.until).toISOString(), by: pause.agent }, "usage limit: account paused");
    this.timer = setTimeout(() => void this.ended(pause).catch(() => {}), Math.max(0, resumeAt - now()));
    this.options.onChange();
  }

  close(): void {
    clearTimeout(this.timer);
  }

  /** A guessed reset is probed before work resumes; a known one is trusted. */
  private async ended(pause: AccountPause): Promise<void> {
    if (pause.guessed) {
      const probe = await this.options.probe();
      if (probe.ok && probe.usageLimit) {
        await this.hit(probe.usageLimit);
        return;
      }
    }
    this.pause = undefined;
    this.options.log.info({ account: pause.account }, "usage limit over: taking work again");
    this.options.onChange();
  }
}
