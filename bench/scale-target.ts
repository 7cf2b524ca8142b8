import { randomBytes } from "node:crypto";
import calculateSlot from "cluster-key-slot";
import type { Redis } from "ioredis";
import { readRedisTopology } from "../src/config/read-redis-topology.js";
import { connectRedis } from "../src/shared/connect-redis.js";
import type { RedisClient } from "../src/shared/redis-client.js";
import { startRedisCluster } from "../test/helpers/redis-cluster.js";
import { startBenchRedis } from "./bench-redis.js";

/** Where bench/scale.ts runs: one redis-server, or a local Redis Cluster of three masters. */
export type ScaleTargetKind = "single" | "cluster";

export interface ScaleTarget {
  description: string;
  /** What the app, `ccc` and the agent processes are started with to reach it (REDIS_URL, or REDIS_CLUSTER_NODES). */
  env: Record<string, string | undefined>;
  /** The bench's CCC_PREFIX: random, and hash-tagged on a cluster (`{ccc-bench-…}`), as the product tags it. */
  prefix: string;
  /** One client of the product's own kind (connectRedis of the topology the env reads), named `connectionName` on every node. */
  connect(connectionName: string): Promise<RedisClient>;
  /** A plain connection to each server, for the counts of INFO: one for a single server, each master for a cluster. */
  servers(): Promise<Redis[]>;
  stop(): Promise<void>;
}

export type ScaleTargetStart = { ok: true; target: ScaleTarget } | { ok: false; reason: string };

/**
 * Far above the 3 connections per agent of 1,000 agents (and the up to 4 per node per agent of
 * a cluster); Redis caps it by its open-files limit (`ulimit -n`), which must allow it too.
 */
const MAX_CLIENTS = 20_000;
const MASTERS = 3;

/** The one switch between the bench's two halves. */
export async function startScaleTarget(kind: ScaleTargetKind): Promise<ScaleTargetStart> {
  const base = `ccc-bench-${randomBytes(4).toString("hex")}`;
  switch (kind) {
    case "single": {
      const server = await startBenchRedis({ maxclients: MAX_CLIENTS });
      const env = { REDIS_URL: server.url };
      return {
        ok: true,
        target: {
          description: server.description,
          env,
          prefix: base,
          connect: (connectionName) => connectRedis(readRedisTopology(env), { connectionName, keyPrefix: base }),
          servers: async () => [await connectRedis(server.url)],
          stop: () => server.stop(base),
        },
      };
    }
    case "cluster": {
      const cluster = await startRedisCluster(MASTERS, 0, { maxclients: MAX_CLIENTS }).catch((error: Error) => error);
      if (cluster instanceof Error) return { ok: false, reason: `Redis Cluster: could not start a local one (${cluster.message})` };
      // REDIS_URL unset: the app's test environment sets one by default, both set is an error, and
      // the app's settings refuse an empty one (readRedisTopology takes "" for unset, the schema does not).
      const env = { ...cluster.env, REDIS_URL: undefined };
      const prefix = `{${base}}`;
      const slot = calculateSlot(`${prefix}:`);
      const home = await cluster.masterOf(slot);
      const probe = await connectRedis(`redis://127.0.0.1:${cluster.ports[0]}`);
      const version = /redis_version:(\S+)/.exec(await probe.info("server"))?.[1] ?? "?";
      const maxclients = ((await probe.config("GET", "maxclients")) as string[])[1];
      probe.disconnect();
      return {
        ok: true,
        target: {
          description:
            `own Redis Cluster: ${MASTERS} masters, no replicas, redis-server ${version} on ports ${cluster.ports.join(", ")} (maxclients ${maxclients} each), no persistence;` +
            ` prefix hash-tagged ${prefix}: every key in slot ${slot}, on the master at :${home}`,
          env,
          prefix,
          connect: (connectionName) => connectRedis(readRedisTopology(env), { connectionName, keyPrefix: prefix }),
          servers: () => Promise.all(cluster.ports.map((port) => connectRedis(`redis://127.0.0.1:${port}`))),
          stop: () => cluster.stop(),
        },
      };
    }
  }
}
