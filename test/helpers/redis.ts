import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { isCluster, type RedisClient } from "../../src/shared/redis-client.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A key prefix no other test or process uses. */
export function randomPrefix(): string {
  return `ccc-test-${randomBytes(6).toString("hex")}`;
}

export function connectRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** Every key matching `pattern` (SCAN, so never blocking Redis); on a Redis Cluster, every master's. */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  if (isCluster(client)) return (await Promise.all(client.nodes("master").map((node) => scanKeys(node, pattern)))).flat();
  const redis = client;
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

/** Deletes only the keys under `prefix`; never flushes a Redis the tests did not start. */
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<void> {
  const keys = await scanKeys(redis, `${prefix}:*`);
  // One key at a time on a cluster: a multi-key DEL must stay within one slot.
  if (isCluster(redis)) for (const key of keys) await redis.del(key);
  else for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
}
