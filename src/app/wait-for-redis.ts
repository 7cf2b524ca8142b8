import type { RedisClient } from "../shared/redis-client.js";

/**
 * How long a delivery waits for a Redis that is away (a failover, a restart) before it is
 * answered 503. Under Probot's 9 s, after which it answers 202 and keeps the delivery in memory
 * only: lost if the app dies before Redis is back.
 */
export const REDIS_WAIT_MS = 7_000;

/** Redis did not come back in time: nothing of the delivery was written; GitHub's redelivery is taken. */
export class RedisNotReadyError extends Error {
  override readonly name = "RedisNotReadyError";
  /** What the webhook middleware answers. */
  readonly status = 503;
  constructor(waitedMs: number) {
    super(`Redis is not reachable (waited ${waitedMs} ms); nothing was written, redeliver this delivery`);
  }
}

/** Resolves once the connection is ready, at once if it is; throws RedisNotReadyError after `timeoutMs`. */
export async function waitForRedis(redis: Pick<RedisClient, "status" | "once" | "off">, timeoutMs = REDIS_WAIT_MS): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new RedisNotReadyError(timeoutMs));
    }, timeoutMs);
    redis.once("ready", onReady);
  });
}
