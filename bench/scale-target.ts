import type { Redis } from "ioredis";
import { connectRedis } from "../src/shared/connect-redis.js";
import { startBenchRedis } from "./bench-redis.js";

/** Where bench/scale.ts runs: one redis-server, or a local Redis Cluster of three masters. */
export type ScaleTargetKind = "single" | "cluster";

export interface ScaleTarget {
  description: string;
  /** What the app, `ccc` and the agent processes are started with to reach it (REDIS_URL, …). */
  env: Record<string, string>;
  /** One client of the product's own kind (connectRedis), for the bench's writes and reads. */
  connect(): Promise<Redis>;
  /** A plain connection to each server, for the counts of INFO: one for a single server, each master for a cluster. */
  servers(): Promise<Redis[]>;
  stop(prefix: string): Promise<void>;
}

export type ScaleTargetStart = { ok: true; target: ScaleTarget } | { ok: false; reason: string };

/**
 * Far above the 3 connections per agent of 1,000 agents; Redis caps it by its open-files limit
 * (`ulimit -n`), which must allow it too.
 */
const MAX_CLIENTS = 20_000;

/** The one switch between the bench's two halves. */
export async function startScaleTarget(kind: ScaleTargetKind): Promise<ScaleTargetStart> {
  switch (kind) {
    case "single": {
      const server = await startBenchRedis({ maxclients: MAX_CLIENTS });
      return {
        ok: true,
        target: {
          description: server.description,
          env: { REDIS_URL: server.url },
          connect: () => connectRedis(server.url),
          servers: async () => [await connectRedis(server.url)],
          stop: (prefix) => server.stop(prefix),
        },
      };
    }
    case "cluster":
      // ── The cluster half ──────────────────────────────────────────────────────────────────
      // This build's connectRedis, readRedisTopology and key prefix know one server (or a
      // sentinel set) only. With REDIS_CLUSTER_NODES in the product: start
      // test/helpers/redis-cluster.ts's startRedisCluster(3) (with maxclients 20000 on each
      // node), env { REDIS_CLUSTER_NODES: <its nodes> }, connect() through connectRedis of the
      // cluster topology, servers() a plain Redis to each master; and a hash-tagged prefix
      // ("{ccc-bench-…}") from bench/scale.ts. docs/benchmarks.md lists the rest.
      return { ok: false, reason: "Redis Cluster: not yet supported by this build" };
  }
}
