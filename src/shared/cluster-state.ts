/** Every hash slot a Redis Cluster has; all must be served for the product's keys to be reachable. */
export const HASH_SLOTS = 16_384;

/** What `CLUSTER INFO` says about a Redis Cluster's health. */
export interface ClusterState {
  /** `ok`, or `fail` when a slot is unserved or the node is cut off from the majority. */
  state: string;
  /** Slots assigned to a master. */
  slotsAssigned: number;
  /** Slots whose master is reachable (neither `pfail` nor `fail`). */
  slotsOk: number;
  /** Masters serving at least one slot. */
  size: number;
  knownNodes: number;
}

/** `CLUSTER INFO`'s `key:value` lines, as numbers and words. Pure. */
export function parseClusterInfo(text: string): ClusterState {
  const fields = new Map(
    text
      .split(/\r?\n/)
      .map((line) => line.split(":"))
      .filter((pair): pair is [string, string] => pair.length === 2)
      .map(([key, value]) => [key.trim(), value.trim()]),
  );
  const count = (key: string) => Number(fields.get(key) ?? "0") || 0;
  return {
    state: fields.get("cluster_state") ?? "unknown",
    slotsAssigned: count("cluster_slots_assigned"),
    slotsOk: count("cluster_slots_ok"),
    size: count("cluster_size"),
    knownNodes: count("cluster_known_nodes"),
  };
}

/**
 * Why the product cannot run on a cluster in this state, in words that name the fix; undefined
 * when every slot is served. Pure.
 */
export function clusterStateProblem(state: ClusterState, node: string): string | undefined {
  if (state.slotsAssigned < HASH_SLOTS)
    return (
      `the Redis Cluster does not cover every hash slot (${node} says cluster_state:${state.state}, ${state.slotsAssigned} of ${HASH_SLOTS} slots assigned): ` +
      `assign the rest (\`redis-cli --cluster fix ${node}\`), then start again.`
    );
  if (state.slotsOk < HASH_SLOTS || state.state !== "ok")
    return (
      `the Redis Cluster is down (${node} says cluster_state:${state.state}, ${state.slotsOk} of ${HASH_SLOTS} slots served): ` +
      `a master is unreachable and has no replica to take over; start it again (\`redis-cli --cluster check ${node}\` lists the nodes).`
    );
  return undefined;
}
