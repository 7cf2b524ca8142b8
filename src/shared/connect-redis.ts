import { Redis } from "ioredis";
import { redactSecrets } from "./redact.js";
import { UserFacingError } from "./user-facing-error.js";

/** Redis could not be reached at start; the message says where it looked and what to do. */
export class RedisUnavailableError extends UserFacingError {
  override readonly name = "RedisUnavailableError";
  declare readonly code: "redis-unavailable";
  constructor(url: string, cause: string) {
    super(`Redis is not reachable at ${redactSecrets(url)} (${redactSecrets(cause)}).`, {
      code: "redis-unavailable",
      hint: "Start redis-server, or set REDIS_URL to the cluster's Redis.",
    });
  }
}

/**
 * Connects and pings once, so a wrong REDIS_URL fails at start with one clear line instead of
 * endless reconnect logs. After that ioredis reconnects by itself; `maxRetriesPerRequest: null`
 * is what BullMQ requires for blocking connections.
 */
export async function connectRedis(url: string, timeoutMs = 5_000): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: timeoutMs });
  // Swallow connection errors here; the ping below reports the first one clearly.
  const swallow = () => {};
  redis.on("error", swallow);
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
  } catch (error) {
    redis.disconnect();
    throw new RedisUnavailableError(url, (error as Error).message);
  }
  return redis;
}
