/** One Redis endpoint, as `REDIS_SENTINELS` lists them. */
export interface RedisHostPort {
  host: string;
  port: number;
}

/** What every connection to a data node authenticates and encrypts with, whatever the topology. */
export interface RedisAccess {
  /** ACL user (`REDIS_USERNAME`, or the URL's); unset: `default`. */
  username?: string;
  /** `REDIS_PASSWORD`, or the URL's. Never logged: `describeTopology` leaves it out. */
  password?: string;
  /** Whether the data connections speak TLS (`rediss://`, or `REDIS_TLS_CA` with sentinels). */
  tls: boolean;
  /** PEM file of the CA that signed the servers' certificates (`REDIS_TLS_CA`); unset: the system's CAs. */
  tlsCaFile?: string;
}

/**
 * Where the cluster's Redis is and how to reach it, read from the environment once
 * (`readRedisTopology`) and handed to `connectRedis`. A discriminated union, one `kind` per way
 * of running Redis.
 */
export type RedisTopology =
  /** One server at `REDIS_URL`. */
  | ({ kind: "single"; url: string } & RedisAccess)
  /** A primary found through Redis Sentinel, followed across failovers. */
  | ({
      kind: "sentinel";
      /** `REDIS_SENTINELS`, in order; any one that answers is enough. */
      sentinels: RedisHostPort[];
      /** The master group's name (`REDIS_SENTINEL_NAME`). */
      name: string;
      /** `REDIS_SENTINEL_PASSWORD`, when the sentinels require one (`requirepass` in sentinel.conf). */
      sentinelPassword?: string;
    } & RedisAccess)
  /** A Redis Cluster (`REDIS_CLUSTER_NODES`): any of its nodes is enough to find the others. */
  | ({
      kind: "cluster";
      /** The seed nodes, in order; ioredis learns the rest, and the slots, from the first that answers. */
      nodes: RedisHostPort[];
    } & RedisAccess);

/** The topology in one line for logs and messages: never a password. */
export function describeTopology(topology: RedisTopology): string {
  const user = topology.username ? ` as ${topology.username}` : "";
  const tls = topology.tls ? " over TLS" : "";
  if (topology.kind === "single") {
    const url = new URL(topology.url);
    return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}${user}${tls}`;
  }
  if (topology.kind === "cluster") return `Redis Cluster via ${topology.nodes.map((n) => `${n.host}:${n.port}`).join(",")}${user}${tls}`;
  return `sentinel master group "${topology.name}" via ${topology.sentinels.map((s) => `${s.host}:${s.port}`).join(",")}${user}${tls}`;
}
