import type { RedisClient } from "../shared/redis-client.js";
import type { GetOctokit } from "../github/github-client.js";
import type { EventQueue } from "../queue/event-queue.js";
import type { TaskQueues } from "../queue/task-queues.js";
import type { TaskStore } from "../queue/task-store.js";
import type { Logger } from "../shared/logger.js";

/** What holding, checking and releasing a blocked task touch: the intake's stores, and GitHub to read blockers. */
export interface DependencyDeps {
  redis: RedisClient;
  prefix: string;
  store: TaskStore;
  queues: TaskQueues;
  events: EventQueue;
  log: Logger;
  /** The installation's client, to read a dependent issue and its blockers. */
  getOctokit: GetOctokit;
  now?: () => number;
  /** Asks the runner dispatcher for a pass now: a released runner-mode task is on its queue. @defaultValue none */
  dispatchNow?: () => void;
}
