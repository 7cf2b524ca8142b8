import type { Redis } from "ioredis";
import type { AgentRegistry } from "../agent/registry.js";
import type { TaskQueues } from "../queue/task-queues.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../reporter/event-queue.js";
import type { Logger } from "../shared/logger.js";

/** Everything the webhook handlers touch. None of it writes to GitHub. */
export interface IntakeDeps {
  redis: Redis;
  prefix: string;
  store: TaskStore;
  queues: TaskQueues;
  events: EventQueue;
  registry: AgentRegistry;
  /** Specialties some live agent serves; briefly cached (see cachedLiveSpecialties). */
  liveSpecialties: () => Promise<Set<string>>;
  log: Logger;
  permissionCacheSeconds: number;
  configCacheSeconds: number;
  now?: () => number;
}
