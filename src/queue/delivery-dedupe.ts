import type { Redis } from "ioredis";

/** GitHub redelivers on timeouts and operators redeliver by hand; a day covers both. */
const DELIVERY_TTL_SECONDS = 86_400;

/**
 * Records a webhook delivery id. Returns true the first time it is seen, false for a
 * redelivery, across every app replica.
 */
export async function firstDelivery(redis: Redis, prefix: string, deliveryId: string): Promise<boolean> {
  const set = await redis.set(`${prefix}:delivery:${deliveryId}`, "1", "EX", DELIVERY_TTL_SECONDS, "NX");
  return set === "OK";
}

/**
 * Forgets a delivery whose handling failed, so that GitHub's (or an operator's) redelivery
 * of it is handled instead of dropped as a duplicate.
 */
export async function forgetDelivery(redis: Redis, prefix: string, deliveryId: string): Promise<void> {
  await redis.del(`${prefix}:delivery:${deliveryId}`);
}
