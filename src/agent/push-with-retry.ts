import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "../shared/logger.js";
import { PushError } from "../workspace/errors.js";

/** git's words for a push that will never go through as it is: retrying cannot help. */
const REFUSED_FOR_GOOD = /\[rejected\]|\[remote rejected\]|non-fast-forward|fetch first|protected branch|permission to \S+ denied/i;

export interface PushRetryOptions {
  /** Keep trying this long after the first failure: a GitHub or network outage. */
  windowMs: number;
  /** @defaultValue 5000, doubling up to maxDelayMs */
  firstDelayMs?: number;
  /** @defaultValue 60000 */
  maxDelayMs?: number;
  signal: AbortSignal;
  log: Logger;
  /** Told each time a try failed and another follows, with git's reason and when. */
  onRetry?: (error: PushError, nextAt: number) => Promise<void>;
  now?: () => number;
}

/**
 * Pushes, and while git fails for reasons that may pass (GitHub down, the network gone) tries
 * again with backoff for up to `windowMs`, so that Claude's finished work is not thrown away
 * and run again because of an outage. A refusal for good, or an abort, ends it at once.
 */
export async function pushWithRetry(push: () => Promise<void>, options: PushRetryOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const maxDelay = options.maxDelayMs ?? 60_000;
  let wait = options.firstDelayMs ?? 5_000;
  const giveUpAt = now() + options.windowMs;
  for (;;) {
    try {
      return await push();
    } catch (error) {
      if (!(error instanceof PushError) || REFUSED_FOR_GOOD.test(error.stderr) || options.signal.aborted) throw error;
      const nextAt = now() + wait;
      if (nextAt > giveUpAt) throw error;
      options.log.warn({ err: error, retryInMs: wait }, "push failed; trying again (GitHub or the network may be down)");
      await options.onRetry?.(error, nextAt);
      await delay(wait, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal.aborted) throw error;
      wait = Math.min(wait * 2, maxDelay);
    }
  }
}
