import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { readRedisTopology } from "../../src/config/read-redis-topology.js";
import { TaskStore } from "../../src/queue/task-store.js";
import { connectRedis } from "../../src/shared/connect-redis.js";
import type { RedisClient } from "../../src/shared/redis-client.js";
import { clusterKeyPrefix } from "../../src/config/shared-env.js";
import { EVENTS_QUEUE } from "../../src/queue/reporter-event.js";
import { startAgentProcess, waitFor, type AgentProcess } from "./agent-process.js";
import { startAppProcess, type AppProcess } from "./app-process.js";
import { deliver } from "./app-server.js";
import { startFakeGitHub, type FakeGitHub } from "./fake-github.js";
import { createOrigin, type Origin } from "./git-origin.js";
import { deletePrefix, randomPrefix, REDIS_URL } from "./redis.js";

/**
 * How long a process test waits for what the app shows on GitHub (comments, labels). The app
 * paces its writes a second apart (Octokit's throttling, as GitHub asks), and each state change
 * is a label added, one removed and the comment edited, so a burst of runs queues several
 * seconds of writes: more on a loaded machine.
 */
export const GITHUB_SHOWS_MS = 45_000;

export interface ClusterOptions {
  /** Redis key prefix shared by the app and its agents. @defaultValue a random one */
  prefix?: string;
  /** More environment for the app process (it already gets the fake GitHub, Redis, prefix and keys). */
  env?: Record<string, string | undefined>;
  /** The Redis the app, the agents and the test share. @defaultValue the tests' Redis (REDIS_URL) */
  redisUrl?: string;
  /**
   * The Redis settings instead of `redisUrl`, as the processes read them (`REDIS_SENTINELS`,
   * `REDIS_USERNAME`, `REDIS_TLS_CA`, …): the app and every agent get them with REDIS_URL unset
   * unless they set it, and the test's own client connects with them through `connectRedis`.
   */
  redisEnv?: Record<string, string | undefined>;
  /** A built app to run instead of this checkout's source (see startAppProcess). */
  appEntry?: string;
}

export interface EventCounts {
  waiting: number;
  delayed: number;
  active: number;
  completed: number;
  failed: number;
}

export interface AgentOptions {
  name: string;
  specialties?: string;
  /** More environment for the agent, e.g. `FAKE_CLAUDE_DELAY_MS`. */
  env?: Record<string, string | undefined>;
  extraArgs?: string[];
  /** The agent's --workdir: a killed agent's, to start it again on the same PC. @defaultValue a new one */
  workdir?: string;
  /** Another build's bin/ccc.js. @defaultValue this checkout's */
  bin?: string;
}

/** The product as users run it: `npm start` and `ccc agent` processes, on a fake GitHub and a local origin. */
export interface Cluster {
  prefix: string;
  redis: RedisClient;
  github: FakeGitHub;
  /** A bare repository the agents push to: payloads carry `cloneUrl: origin.url`. */
  origin: Origin;
  app: AppProcess;
  /** Task records, read from the same Redis the processes use. */
  store: TaskStore;
  /** A webhook delivery, signed as GitHub signs it, to the app's /api/github/webhooks. */
  deliver(event: string, payload: unknown, deliveryId?: string): Promise<Response>;
  /** `ccc agent` on this cluster's Redis and prefix, with the fake claude; stopped by `stop()`. */
  startAgent(options: AgentOptions): Promise<AgentProcess>;
  /** Jobs on the reporter's events queue by state; `failed` > 0 means a report was given up. */
  eventCounts(): Promise<EventCounts>;
  /**
   * Waits up to GITHUB_SHOWS_MS for what the app writes to GitHub; on timeout the error says
   * where the writes stood: the task's record, the events queue, GitHub's last requests.
   */
  waitForGitHub<T>(what: string, check: () => Promise<T | undefined | false>, taskId?: string): Promise<T>;
  /** Stops agents, the app and the fake, and deletes the prefix's keys. */
  stop(): Promise<void>;
}

/**
 * Starts the fake GitHub, a local origin and the app process (`tsx src/app/main.ts`) pointed at
 * both through environment variables only: GHE_HOST and GHE_PROTOCOL=http for GitHub.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const redisEnv = options.redisEnv ? { REDIS_URL: undefined, ...options.redisEnv } : { REDIS_URL: redisUrl };
  // The keys as the processes write them: in braces on a Redis Cluster.
  const prefix = clusterKeyPrefix({ CCC_PREFIX: options.prefix ?? randomPrefix() }, redisEnv).CCC_PREFIX;
  const redis: RedisClient = options.redisEnv ? await connectRedis(readRedisTopology(redisEnv)) : new Redis(redisUrl, { maxRetriesPerRequest: null });
  // Reconnecting through a failover is expected; ioredis would print each attempt otherwise.
  if (options.redisEnv) redis.on("error", () => {});
  const agents: AgentProcess[] = [];
  const [github, origin] = await Promise.all([startFakeGitHub(), createOrigin()]);
  let app: AppProcess | undefined;
  const stop = async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    await app?.stop();
    await github.close();
    await origin.cleanup();
    await deletePrefix(redis, prefix);
    await redis.quit();
  };
  try {
    app = await startAppProcess({
      prefix,
      env: { ...github.env, ...redisEnv, ...options.env },
      ...(options.appEntry ? { entry: options.appEntry } : {}),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const started = app;
  const store = new TaskStore(redis, prefix);
  const eventCounts = async (): Promise<EventCounts> => {
    const queue = new Queue(EVENTS_QUEUE, { connection: redis, prefix });
    try {
      const counts = await queue.getJobCounts("waiting", "delayed", "active", "completed", "failed");
      return {
        waiting: counts.waiting ?? 0,
        delayed: counts.delayed ?? 0,
        active: counts.active ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
      };
    } finally {
      await queue.close();
    }
  };
  return {
    prefix,
    redis,
    github,
    origin,
    app: started,
    store,
    deliver: (event, payload, deliveryId) => deliver(`${started.base}/api/github/webhooks`, event, payload, deliveryId),
    startAgent: async (agent) => {
      const process = await startAgentProcess({ ...agent, prefix, redis, env: { ...redisEnv, ...agent.env } });
      agents.push(process);
      return process;
    },
    waitForGitHub: async (what, check, taskId) => {
      const since = Date.now();
      try {
        return await waitFor(what, check, GITHUB_SHOWS_MS);
      } catch (error) {
        const record = taskId ? await store.get(taskId) : undefined;
        const marks = record && {
          state: record.state,
          run: record.run,
          version: record.version,
          renderedVersion: record.renderedVersion,
          labelState: record.labelState,
          lastEditAt: record.lastEditAt && record.lastEditAt - since,
        };
        const requests = github.requests.slice(-15).map((r) => `${r.at - since} ms ${r.method} ${r.path} ${r.status}`);
        const problems = started
          .output()
          .split("\n")
          .filter((line) => /"level":(40|50|60)/.test(line))
          .slice(-5);
        throw new Error(
          [
            (error as Error).message,
            `record: ${JSON.stringify(marks)}`,
            `events: ${JSON.stringify(await eventCounts())}`,
            "GitHub's last requests (ms from the wait's start):",
            ...requests,
            ...problems,
          ].join("\n"),
          { cause: error },
        );
      }
    },
    eventCounts,
    stop,
  };
}

/**
 * A cluster started before the enclosing `describe`'s tests and stopped after them. The object
 * returned is filled in by then: use it inside tests and later hooks only.
 */
export function useCluster(options: ClusterOptions = {}): Cluster {
  const holder = {} as Cluster;
  beforeAll(async () => {
    Object.assign(holder, await startCluster(options));
  }, 60_000);
  afterAll(async () => {
    await holder.stop?.();
  });
  return holder;
}
