import type { RedisClient } from "../shared/redis-client.js";
import type { AgentRegistry } from "../store/agent-registry.js";
import type { ClusterControl } from "../store/cluster-control.js";
import type { AppMetrics } from "../ops/metrics/app-metrics.js";
import type { UsageMonitor } from "../ops/usage/usage-monitor.js";
import type { TaskQueues } from "../queue/task-queues.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../queue/event-queue.js";
import type { Logger } from "../shared/logger.js";
import type { ApiAccess } from "./api-access.js";

/** What the control API, /metrics and the dashboard read and steer. */
export interface ApiDeps {
  redis: RedisClient;
  prefix: string;
  store: TaskStore;
  queues: TaskQueues;
  events: EventQueue;
  registry: AgentRegistry;
  control: ClusterControl;
  usage: UsageMonitor;
  metrics: AppMetrics;
  access: ApiAccess;
  /** Resolves when GitHub answers the app's own credentials (GET /app); for /ready. */
  checkGitHub: () => Promise<void>;
  log: Logger;
  now?: () => number;
  /** `CCC_TRACE_URL`: a tracing UI's page for `{traceId}`, to link each task's trace. */
  traceUrl?: string | undefined;
}
