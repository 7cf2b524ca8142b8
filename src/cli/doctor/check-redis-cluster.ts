import { readFileSync } from "node:fs";
import type { Cluster } from "ioredis";
import { readCa } from "../../shared/connect-redis.js";
import { clusterStateProblem, HASH_SLOTS } from "../../shared/cluster-state.js";
import { diagnoseCluster } from "../../shared/diagnose-cluster.js";
import type { RedisTopology } from "../../shared/redis-topology.js";
import type { CheckResult } from "./check.js";

type ClusterTopology = Extract<RedisTopology, { kind: "cluster" }>;

/**
 * The "redis cluster" line: the cluster's state and slot coverage as a seed node sees them,
 * asked before connecting, so an uncovered cluster still gets its own line and fix.
 */
export async function checkClusterState(topology: ClusterTopology): Promise<CheckResult> {
  let ca: string | undefined;
  try {
    ca = topology.tlsCaFile ? readCa(topology.tlsCaFile, (path) => readFileSync(path, "utf8")) : undefined;
  } catch (error) {
    return { name: "redis cluster", status: "fail", detail: (error as Error).message, fix: "see docs/operations.md (TLS and ACL users)" };
  }
  const diagnosis = await diagnoseCluster(topology, ca ? { ca } : {});
  switch (diagnosis.kind) {
    case "no-node":
      return {
        name: "redis cluster",
        status: "fail",
        detail: `no node answered: ${diagnosis.errors.join("; ")}`,
        fix: "start the cluster's nodes, or correct REDIS_CLUSTER_NODES",
      };
    case "not-a-cluster":
      return {
        name: "redis cluster",
        status: "fail",
        detail: `${diagnosis.node} is a Redis without cluster support`,
        fix: `set REDIS_URL=redis://${diagnosis.node} instead of REDIS_CLUSTER_NODES, or list a Redis Cluster's nodes`,
      };
    case "state": {
      const { state, node } = diagnosis;
      const problem = clusterStateProblem(state, node);
      const detail = `cluster_state:${state.state}, ${state.slotsOk} of ${HASH_SLOTS} slots served, ${state.size} masters, ${state.knownNodes} nodes`;
      return problem ? { name: "redis cluster", status: "fail", detail, fix: problem } : { name: "redis cluster", status: "ok", detail };
    }
  }
}

/** Where the product's keys live: the hash slot of `{prefix}` and the master serving it. */
export async function keysSlotResult(redis: Cluster, prefix: string): Promise<CheckResult> {
  const tag = /^\{.*\}$/.test(prefix) ? prefix : `{${prefix}}`;
  const slot = Number(await redis.call("CLUSTER", "KEYSLOT", tag));
  const shards = (await redis.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number, ...unknown[]]]>;
  const owner = shards.find(([from, to]) => slot >= from && slot <= to)?.[2];
  const master = owner ? `${owner[0]}:${owner[1]}` : "no master";
  return { name: "redis keys", status: "ok", detail: `${tag}: hash slot ${slot}, on ${master}` };
}

/** Each master's INFO, named by its address: a setting must hold on all of them. */
export async function mastersInfo(redis: Cluster): Promise<Array<{ node: string; info: string }>> {
  return Promise.all(redis.nodes("master").map(async (node) => ({ node: `${node.options.host}:${node.options.port}`, info: await node.info() })));
}
