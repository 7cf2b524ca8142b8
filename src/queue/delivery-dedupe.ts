import type { RedisClient } from "../shared/redis-client.js";
import { readRetention } from "./retention.js";

/**
 * Records a webhook delivery id. Returns true the first time it is seen, false for a
 * redelivery, across every app replica. GitHub redelivers on timeouts and operators redeliver
 * by hand; the default window, a day, covers both (`CCC_DEDUPE_WINDOW_HOURS`).
 */
export async function firstDelivery(redis: RedisClient, prefix: string, deliveryId: string, windowMs = readRetention().dedupeMs): Promise<boolean> {
  return (await redis.set(deliveryKey(prefix, deliveryId), "1", "PX", windowMs, "NX")) === "OK";
}

/** The key that marks a delivery id seen, for a caller that sets it with other commands. */
export function deliveryKey(prefix: string, deliveryId: string): string {
  return `${prefix}:delivery:${deliveryId}`;
}

/**
 * Forgets a delivery whose handling failed, so that GitHub's (or an operator's) redelivery
 * of it is handled instead of dropped as a duplicate.
 */
export async function forgetDelivery(redis: RedisClient, prefix: string, deliveryId: string): Promise<void> {
  await redis.del(deliveryKey(prefix, deliveryId));
}
