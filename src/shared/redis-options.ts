import type { RedisOptions } from "ioredis";
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
export function redisOptions(topology: RedisTopology, extras: RedisOptionsExtras = {}): RedisOptions {
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
