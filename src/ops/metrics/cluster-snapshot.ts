import type { RedisClient } from "../../shared/redis-client.js";
import { AgentRegistry, type AgentInfo } from "../../store/agent-registry.js";
import { ClusterControl, type ControlState } from "../../store/cluster-control.js";
import { PullRequestFates, type PullRequestFate } from "../../store/pull-request-fates.js";
import type { TaskQueues } from "../../queue/task-queues.js";
import { knownQueues } from "../known-queues.js";
import { queueDepths, type QueueDepth } from "../queue-depths.js";
import { CENSUS_LIMIT, taskCensus, type CensusCache, type TaskSummary } from "../task-census.js";
import type { UsageMonitor, UsageReport } from "../usage/usage-monitor.js";

/** Where the cluster's state is read from: the Redis every replica and agent shares. */
export interface ClusterSource {
  redis: RedisClient;
  prefix: string;
  queues: TaskQueues;
  usage: UsageMonitor;
}

/** Everything /metrics reports about the cluster, read in one go. */
export interface ClusterSnapshot {
  tasks: TaskSummary[];
  agents: AgentInfo[];
  control: ControlState;
  queues: QueueDepth[];
  usage: UsageReport;
  /** What became of the cluster's pull requests over the task retention (capped). */
  pullRequests: PullRequestFate[];
}

/** `census`: what the previous scrape read, so that unchanged records are not read again. */
export async function readClusterSnapshot(source: ClusterSource, census?: CensusCache): Promise<ClusterSnapshot> {
  const [tasks, agents, control, usage, pullRequests] = await Promise.all([
    taskCensus(source.redis, source.prefix, CENSUS_LIMIT, census),
    new AgentRegistry(source.redis, source.prefix).list(),
    new ClusterControl(source.redis, source.prefix).get(),
    source.usage.report(),
    new PullRequestFates(source.redis, source.prefix).list(),
  ]);
  const queues = await queueDepths(source.queues, knownQueues(agents, new Set(tasks.map((t) => t.queue))));
  return { tasks, agents, control, queues, usage, pullRequests };
}
