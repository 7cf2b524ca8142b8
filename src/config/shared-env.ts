import { z } from "zod";

/** Settings that the app, agents and the CLI all read. */
export const sharedEnvSchema = z.object({
  /** Redis that holds the queues, task records and agent registry. */
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  /** Prefix of every Redis key the cluster writes; lets several clusters share one Redis. */
  CCC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, "letters, digits, '_' and '-' only")
    .default("ccc"),
  /** pino level. */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

export type SharedEnv = z.infer<typeof sharedEnvSchema>;
