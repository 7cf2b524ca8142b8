import type { RedisClient } from "../shared/redis-client.js";
import type { AgentRegistry } from "../store/agent-registry.js";
import type { TaskQueues } from "../queue/task-queues.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../queue/event-queue.js";
import type { Logger } from "../shared/logger.js";
import type { GetOctokit, GitHubClient } from "../github/github-client.js";
import type { CiWatchQueue } from "../queue/ci-watch-queue.js";

/** The cluster's ops repository, with a client on its own installation. */
export interface OpsRepoClient {
  owner: string;
  repo: string;
  octokit: GitHubClient;
}

/** Everything the webhook handlers touch. None of it writes to GitHub. */
export interface IntakeDeps {
  redis: RedisClient;
  /** How long a delivery waits for a Redis that is away before it is answered 503. @defaultValue REDIS_WAIT_MS (7 s) */
  redisWaitMs?: number;
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
  /** Logins that may `/claude pause|resume|stop` from any repository (`CCC_ADMINS`). @defaultValue none */
  clusterAdmins?: readonly string[];
  /** `CCC_OPS_REPO`, whose maintainers and admins may pause, resume and stop the cluster. @defaultValue none */
  opsRepo?: () => Promise<OpsRepoClient>;
  /**
   * An installation's client, to check the tasks that wait for an issue just closed (they may
   * be in another installation). @defaultValue the delivery's own client
   */
  getOctokit?: GetOctokit;
  /** Asks the self-hosted runner dispatcher for a pass now instead of at its next interval. @defaultValue none */
  dispatchNow?: () => void;
  /** Where check events put the commits whose checks to look at (src/app/ci). @defaultValue one on `redis`, made on first use */
  ciWatch?: CiWatchQueue;
  /** How long a commit's checks must be quiet before the app looks at them (`CCC_CI_SETTLE_SECONDS`). @defaultValue 20 s */
  ciSettleMs?: number;
}
