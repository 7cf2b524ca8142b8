import type { RedisClient } from "../shared/redis-client.js";
import type { TaskQueues } from "../queue/task-queues.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../queue/event-queue.js";
import type { GetOctokit } from "../github/github-client.js";
import type { Logger } from "../shared/logger.js";

export interface DispatcherOptions {
  redis: RedisClient;
  /** Key prefix shared with the queues and task records. */
  prefix: string;
  store: TaskStore;
  queues: TaskQueues;
  events: EventQueue;
  /** The app's installation clients: `(id) => app.auth(id)`. */
  getOctokit: GetOctokit;
  /** @defaultValue silentLogger */
  log?: Logger;
  /** @defaultValue Date.now */
  now?: () => number;
  /** How often the queue is looked at. @defaultValue 5000 */
  intervalMs?: number;
  /** How long a repository's runner list is trusted. @defaultValue 15 */
  runnerCacheSeconds?: number;
  /** How long a repository's config file is trusted. @defaultValue 60 */
  configCacheSeconds?: number;
  /** Dispatches of one run before the task fails for want of a runner. @defaultValue 3 */
  maxDispatchAttempts?: number;
}
