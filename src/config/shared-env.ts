import { z } from "zod";
import type { LogFormat } from "../shared/logger.js";
import { taskSecretSchema } from "./task-secret.js";

/** Written out here, not imported: `ccc --help` loads this schema and should not load pino. */
const LOG_FORMATS = ["auto", "json", "pretty"] as const satisfies readonly LogFormat[];

/** A number of days or hours; the one message names the range, whatever is wrong (`abc`, `0`, too many). */
function positiveNumber(unit: string, max: number) {
  const error = `a number of ${unit} above 0 and up to ${max}; fractions such as 0.5 are allowed`;
  return z.coerce.number({ error }).positive({ error }).max(max, { error });
}

/** Settings that the app, agents and the CLI all read. */
export const sharedEnvSchema = z.object({
  /** Redis that holds the queues, task records and agent registry. */
  REDIS_URL: z.preprocess(
    // `REDIS_URL=` (empty), as a .env leaves it beside REDIS_SENTINELS or REDIS_CLUSTER_NODES, is unset, as readRedisTopology reads it.
    (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
    z.string().url().default("redis://127.0.0.1:6379"),
  ),
  /**
   * Redis Sentinel instead of REDIS_URL: `host:port,host:port,…` of the sentinels, which name the
   * primary and follow it across failovers. Checked by readRedisTopology (src/config/read-redis-topology.ts).
   */
  REDIS_SENTINELS: z.string().optional(),
  /**
   * A Redis Cluster instead of REDIS_URL: `redis://host:port,…` (or `rediss://`) of some of its
   * nodes. Every key then carries the hash tag `{CCC_PREFIX}` (see clusterKeyPrefix).
   */
  REDIS_CLUSTER_NODES: z.string().optional(),
  /** The sentinels' master group (`sentinel monitor <name> …`). */
  REDIS_SENTINEL_NAME: z.string().default("mymaster"),
  /** The sentinels' own password (`requirepass` in sentinel.conf), when they have one. */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  /** ACL user for the data connections; wins over a user in REDIS_URL. */
  REDIS_USERNAME: z.string().optional(),
  /** Password for the data connections (the ACL user's, or `requirepass`); wins over one in REDIS_URL. */
  REDIS_PASSWORD: z.string().optional(),
  /** PEM file of the CA that signed Redis's certificate; with `rediss://`, or TLS to the primary with sentinels. */
  REDIS_TLS_CA: z.string().optional(),
  /**
   * Prefix of every Redis key the cluster writes; lets several clusters share one Redis. May be
   * written as a hash tag, `{ccc}`; with REDIS_CLUSTER_NODES it becomes one if it is not.
   */
  CCC_PREFIX: z
    .string()
    .regex(/^(\{[A-Za-z0-9_-]{1,40}\}|[A-Za-z0-9_-]{1,40})$/, "letters, digits, '_' and '-' only, optionally in {braces}")
    .default("ccc"),
  /**
   * Days a finished task (its record, its id in the recent-tasks list, its failed run's job)
   * stays in Redis; fractions allowed. Live tasks never expire. See src/queue/retention.ts.
   */
  CCC_TASK_RETENTION_DAYS: positiveNumber("days", 3650).default(30),
  /** Hours a webhook delivery id and a completed reporter event are remembered, so a redelivery within them is dropped. */
  CCC_DEDUPE_WINDOW_HOURS: positiveNumber("hours", 24 * 30).default(24),
  /**
   * Key(s) tasks are signed with, `new[,previous]`; the app and every agent need it, the CLI for
   * `ccc retry`. Never written to Redis. Required where it is used (requireTaskSecret).
   */
  CCC_TASK_SECRET: taskSecretSchema,
  /**
   * Where a person looks at a trace: a URL with `{traceId}` in it, e.g.
   * `https://jaeger.example/trace/{traceId}`. `ccc tasks show`, the API and the dashboard link
   * a task's trace with it. Unset: they show the trace id alone.
   */
  CCC_TRACE_URL: z
    .string()
    .url()
    .refine((url) => /^https?:\/\//.test(url) && url.includes("{traceId}"), "an http(s) URL with {traceId} in it, e.g. https://jaeger.example/trace/{traceId}")
    .optional(),
  /** pino level. */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** Log lines as JSON, or `pretty` for people; `auto` is pretty when stdout is a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(LOG_FORMATS, { error: "expected auto, json or pretty" }).default("auto"),
});

export type SharedEnv = z.infer<typeof sharedEnvSchema>;

/**
 * The settings with the key prefix a Redis Cluster needs: every Lua script, MULTI and pipeline
 * of the product and of BullMQ names several keys, which a cluster accepts only within one hash
 * slot, so with REDIS_CLUSTER_NODES every key starts with the hash tag `{CCC_PREFIX}`. Each
 * process applies it the same way when it reads its settings, so they all agree on the keys.
 */
export function clusterKeyPrefix<T extends { CCC_PREFIX: string }>(settings: T, env: NodeJS.ProcessEnv): T {
  const tagged = /^\{.*\}$/.test(settings.CCC_PREFIX);
  if (tagged || !env.REDIS_CLUSTER_NODES?.trim()) return settings;
  return { ...settings, CCC_PREFIX: `{${settings.CCC_PREFIX}}` };
}
