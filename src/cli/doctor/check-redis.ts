import { isCluster, type RedisClient } from "../../shared/redis-client.js";
import { checkClusterState, keysSlotResult, mastersInfo } from "./check-redis-cluster.js";
import { connectRedis } from "../../shared/connect-redis.js";
import { describeTopology, type RedisTopology } from "../../shared/redis-topology.js";
import type { CheckResult } from "./check.js";

/** Oldest Redis BullMQ 5 supports. */
const MIN_VERSION = [6, 2];

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

/** Where the connection landed: with sentinels, the primary they named (the socket's far end). */
function topologyResult(topology: RedisTopology, redis: RedisClient): CheckResult {
  const where = describeTopology(topology);
  if (topology.kind === "single") return { name: "redis topology", status: "ok", detail: `one server, ${where}` };
  if (isCluster(redis))
    return { name: "redis topology", status: "ok", detail: `${where}: ${redis.nodes("master").length} masters, ${redis.nodes("slave").length} replicas` };
  const socket = (redis as unknown as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  const primary = socket?.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : "unknown";
  return { name: "redis topology", status: "ok", detail: `${where}: primary ${primary}` };
}

/** The nodes named in a line, when a cluster's masters disagree: `a:1, b:2`. */
function on(nodes: Array<{ node: string }>, all: number): string {
  return all > 1 ? ` on ${nodes.map((n) => n.node).join(", ")}` : "";
}

/**
 * Redis reachable, new enough, and set up so that BullMQ loses nothing: `noeviction` (an
 * evicted key is a lost job) and AOF (a restart keeps the queues), on every master of a Redis
 * Cluster, whose state and slot coverage come first. Read with INFO, which managed Redis
 * services allow where CONFIG is often blocked. `prefix` is CCC_PREFIX, to say where its keys live.
 */
export async function checkRedis(topology: RedisTopology, prefix = "ccc"): Promise<CheckResult[]> {
  const state = topology.kind === "cluster" ? [await checkClusterState(topology)] : [];
  if (state[0]?.status === "fail") return state;
  let redis;
  try {
    redis = await connectRedis(topology, { timeoutMs: 3_000, keyPrefix: prefix });
  } catch (error) {
    return [
      {
        name: "redis",
        status: "fail",
        detail: (error as Error).message,
        fix: "start redis-server, or set REDIS_URL (or REDIS_SENTINELS and REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES) to the cluster's Redis",
      },
    ];
  }
  try {
    const infos = isCluster(redis) ? await mastersInfo(redis) : [{ node: describeTopology(topology), info: await redis.info() }];
    const results: CheckResult[] = [topologyResult(topology, redis), ...state];
    if (isCluster(redis)) results.push(await keysSlotResult(redis, prefix));
    const versions = infos.map(({ node, info }) => ({ node, version: infoField(info, "redis_version") ?? "unknown" }));
    const tooOld = versions.filter(({ version }) => {
      const [major = 0, minor = 0] = version.split(".").map(Number);
      return !(major > MIN_VERSION[0]! || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]!));
    });
    const version = [...new Set((tooOld.length > 0 ? tooOld : versions).map((v) => v.version))].join(", ");
    const oldEnough = tooOld.length === 0;
    results.push(
      oldEnough
        ? { name: "redis version", status: "ok", detail: version }
        : { name: "redis version", status: "fail", detail: `${version}${on(tooOld, infos.length)}`, fix: "upgrade to Redis 6.2 or newer (BullMQ needs it)" },
    );
    const evicting = infos.filter(({ info }) => infoField(info, "maxmemory_policy") !== "noeviction");
    results.push(
      evicting.length === 0
        ? { name: "redis maxmemory-policy", status: "ok", detail: "noeviction" }
        : {
            name: "redis maxmemory-policy",
            status: "fail",
            detail: `${[...new Set(evicting.map(({ info }) => infoField(info, "maxmemory_policy") ?? "unknown"))].join(", ")}${on(evicting, infos.length)}`,
            fix: "set `maxmemory-policy noeviction` in redis.conf (or `redis-cli CONFIG SET maxmemory-policy noeviction`): Redis must never evict queue keys",
          },
    );
    const withoutAof = infos.filter(({ info }) => infoField(info, "aof_enabled") !== "1");
    results.push(
      withoutAof.length === 0
        ? { name: "redis AOF", status: "ok", detail: "appendonly yes" }
        : {
            name: "redis AOF",
            status: "warn",
            detail: `appendonly no${on(withoutAof, infos.length)}`,
            fix: "set `appendonly yes` in redis.conf: without it a Redis restart loses queued tasks",
          },
    );
    return results;
  } finally {
    redis.disconnect();
  }
}
