import type { ClusterOptions, RedisOptions } from "ioredis";
import type { RedisTopology } from "./redis-topology.js";

/** What `redisOptions` needs besides the topology: what was read from disk, and the start's patience. */
export interface RedisOptionsExtras {
  /** The PEM text of `REDIS_TLS_CA`, read by the caller. */
  ca?: string;
  /** @defaultValue 5000 */
  connectTimeoutMs?: number;
}

/**
 * A primary demoted to replica while its clients stay connected (`SENTINEL FAILOVER`, an old
 * primary back as a replica, a healed network split; a managed service's role swap) answers
 * writes with READONLY, and a node still reading its AOF answers LOADING. Reconnecting asks the
 * sentinels for the primary again; `2` resends the command, which Redis refused, so it did not run.
 */
export function reconnectOnFailover(error: Error): 2 | false {
  return /^(READONLY|LOADING)\b/.test(error.message) ? 2 : false;
}

/**
 * The ioredis options for a topology. Pure: the caller reads the CA file and passes its text.
 * `maxRetriesPerRequest: null` is what BullMQ requires (and keeps every command waiting through
 * a failover instead of failing it); BullMQ's `duplicate()` copies all of these, sentinels included.
 */
export function redisOptions(topology: Exclude<RedisTopology, { kind: "cluster" }>, extras: RedisOptionsExtras = {}): RedisOptions {
  const common: RedisOptions = {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectTimeout: extras.connectTimeoutMs ?? 5_000,
    reconnectOnError: reconnectOnFailover,
    ...(topology.username ? { username: topology.username } : {}),
    ...(topology.password ? { password: topology.password } : {}),
  };
  const tls = topology.tls ? { tls: extras.ca ? { ca: extras.ca } : {} } : {};
  switch (topology.kind) {
    case "single": {
      const url = new URL(topology.url);
      const db = Number(url.pathname.slice(1) || "0");
      return {
        // A bare URL's own credentials, when the topology carries none of its own.
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        ...common,
        ...tls,
        host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: Number(url.port || "6379"),
        ...(db ? { db } : {}),
      };
    }
    case "sentinel":
      return {
        ...common,
        ...tls,
        sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
        name: topology.name,
        ...(topology.sentinelPassword ? { sentinelPassword: topology.sentinelPassword } : {}),
        // The sentinels themselves speak plain TCP; TLS is for the data connections to the primary.
        ...(topology.tls ? { enableTLSForSentinelMode: true } : {}),
      };
  }
}

/**
 * How long a command waits through a Redis Cluster's failover or resharding before it fails:
 * ioredis retries it every `CLUSTER_RETRY_MS` while the cluster answers CLUSTERDOWN or TRYAGAIN or
 * the slot's master is unreachable, up to `CLUSTER_RETRIES` times (60 s, four times Redis's
 * default `cluster-node-timeout`), as the sentinel topology waits for its new primary.
 */
const CLUSTER_RETRY_MS = 300;
const CLUSTER_RETRIES = 200;

/** The ioredis options for a Redis Cluster; every node is reached with the same user, password and TLS. */
export function clusterOptions(topology: Extract<RedisTopology, { kind: "cluster" }>, extras: RedisOptionsExtras = {}): ClusterOptions {
  return {
    lazyConnect: true,
    // Its CLUSTER INFO would go to a random node, one more connection per client; connectRedis
    // checks the state at start on the keys' master, and later a CLUSTERDOWN answer is waited out.
    enableReadyCheck: false,
    slotsRefreshTimeout: extras.connectTimeoutMs ?? 5_000,
    retryDelayOnFailover: CLUSTER_RETRY_MS,
    retryDelayOnClusterDown: CLUSTER_RETRY_MS,
    retryDelayOnTryAgain: CLUSTER_RETRY_MS,
    maxRedirections: CLUSTER_RETRIES,
    // Keeps looking for the cluster, as ioredis does for one server, instead of ending the connection.
    clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
    redisOptions: {
      maxRetriesPerRequest: null,
      connectTimeout: extras.connectTimeoutMs ?? 5_000,
      ...(topology.username ? { username: topology.username } : {}),
      ...(topology.password ? { password: topology.password } : {}),
      ...(topology.tls ? { tls: extras.ca ? { ca: extras.ca } : {} } : {}),
    },
  };
}
