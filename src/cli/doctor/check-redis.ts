import type { Redis } from "ioredis";
import { connectRedis } from "../../shared/connect-redis.js";
import { describeTopology, type RedisTopology } from "../../shared/redis-topology.js";
import type { CheckResult } from "./check.js";

/** Oldest Redis BullMQ 5 supports. */
const MIN_VERSION = [6, 2];

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

/** Where the connection landed: with sentinels, the primary they named (the socket's far end). */
function topologyResult(topology: RedisTopology, redis: Redis): CheckResult {
  const where = describeTopology(topology);
  if (topology.kind === "single") return { name: "redis topology", status: "ok", detail: `one server, ${where}` };
  const socket = (redis as unknown as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  const primary = socket?.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : "unknown";
  return { name: "redis topology", status: "ok", detail: `${where}: primary ${primary}` };
}

/**
 * Redis reachable, new enough, and set up so that BullMQ loses nothing: `noeviction` (an
 * evicted key is a lost job) and AOF (a restart keeps the queues). Read with INFO, which
 * managed Redis services allow where CONFIG is often blocked.
 */
export async function checkRedis(topology: RedisTopology): Promise<CheckResult[]> {
  let redis;
  try {
    redis = await connectRedis(topology, { timeoutMs: 3_000 });
  } catch (error) {
    return [
      {
        name: "redis",
        status: "fail",
        detail: (error as Error).message,
        fix: "start redis-server, or set REDIS_URL (or REDIS_SENTINELS and REDIS_SENTINEL_NAME) to the cluster's Redis",
      },
    ];
  }
  try {
    const info = await redis.info();
    const version = infoField(info, "redis_version") ?? "unknown";
    const [major = 0, minor = 0] = version.split(".").map(Number);
    const results: CheckResult[] = [topologyResult(topology, redis)];
    const oldEnough = major > MIN_VERSION[0]! || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]!);
    results.push(
      oldEnough
        ? { name: "redis version", status: "ok", detail: version }
        : { name: "redis version", status: "fail", detail: version, fix: "upgrade to Redis 6.2 or newer (BullMQ needs it)" },
    );
    const policy = infoField(info, "maxmemory_policy") ?? "unknown";
    results.push(
      policy === "noeviction"
        ? { name: "redis maxmemory-policy", status: "ok", detail: policy }
        : {
            name: "redis maxmemory-policy",
            status: "fail",
            detail: policy,
            fix: "set `maxmemory-policy noeviction` in redis.conf (or `redis-cli CONFIG SET maxmemory-policy noeviction`): Redis must never evict queue keys",
          },
    );
    const aof = infoField(info, "aof_enabled");
    results.push(
      aof === "1"
        ? { name: "redis AOF", status: "ok", detail: "appendonly yes" }
        : {
            name: "redis AOF",
            status: "warn",
            detail: "appendonly no",
            fix: "set `appendonly yes` in redis.conf: without it a Redis restart loses queued tasks",
          },
    );
    return results;
  } finally {
    redis.disconnect();
  }
}
