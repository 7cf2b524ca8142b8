import { Redis } from "ioredis";
import { parseClusterInfo, type ClusterState } from "./cluster-state.js";
import type { RedisTopology } from "./redis-topology.js";

type ClusterTopology = Extract<RedisTopology, { kind: "cluster" }>;

/** What the seed nodes said, asked one by one with a plain connection each. */
export type ClusterDiagnosis =
  /** No node answered; why, per node. */
  | { kind: "no-node"; errors: string[] }
  /** A node answered but is no cluster node (`cluster-enabled no`). */
  | { kind: "not-a-cluster"; node: string }
  /** A node answered with its view of the cluster. */
  | { kind: "state"; node: string; state: ClusterState };

/**
 * Asks each seed node for `CLUSTER INFO`, for a start that failed or for `ccc doctor`: ioredis
 * only says it could not get ready, whether the nodes are down, are no cluster, or leave slots
 * uncovered.
 */
export async function diagnoseCluster(topology: ClusterTopology, options: { ca?: string; timeoutMs?: number } = {}): Promise<ClusterDiagnosis> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const errors: string[] = [];
  for (const { host, port } of topology.nodes) {
    const where = `${host}:${port}`;
    const node = new Redis({
      host,
      port,
      ...(topology.username ? { username: topology.username } : {}),
      ...(topology.password ? { password: topology.password } : {}),
      ...(topology.tls ? { tls: options.ca ? { ca: options.ca } : {} } : {}),
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // ioredis rejects with "Connection is closed." once it gives up; the reason is in the error event.
    let reason: string | undefined;
    node.on("error", (error: Error) => (reason ??= error.message));
    try {
      await node.connect();
      const info = String(await node.call("CLUSTER", "INFO"));
      return { kind: "state", node: where, state: parseClusterInfo(info) };
    } catch (error) {
      const message = (error as Error).message === "Connection is closed." && reason ? reason : (error as Error).message;
      if (/cluster support disabled/i.test(message)) return { kind: "not-a-cluster", node: where };
      errors.push(`${where}: ${message}`);
    } finally {
      node.disconnect();
    }
  }
  return { kind: "no-node", errors };
}
