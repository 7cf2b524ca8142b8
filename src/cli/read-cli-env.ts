import { ConfigError } from "../config/env-error.js";
import { requireTaskSecret } from "../config/task-secret.js";
import type { TaskSecrets } from "../config/task-secret.js";
import { clusterKeyPrefix, sharedEnvSchema, type SharedEnv } from "../config/shared-env.js";
import { parseBudgets, type Budget } from "../config/parse-budgets.js";

/** What to do about each variable, after zod's word on what is wrong with it. */
const FIX: Record<string, string> = {
  REDIS_URL: "set it to the cluster's Redis, e.g. redis://127.0.0.1:6379",
  CCC_PREFIX: "use the prefix the app was started with (default ccc)",
  LOG_LEVEL: "use trace, debug, info, warn, error, fatal or silent",
  LOG_FORMAT: "unset or auto prints readable lines on a terminal and JSON otherwise",
  CCC_TASK_SECRET: "copy it from the app's .env (comma-separated keys during a rotation, each 32+ characters)",
  CCC_TRACE_URL: "give your tracing UI's trace page with {traceId} where the id goes, e.g. https://jaeger.example/trace/{traceId}",
};

/**
 * REDIS_URL, CCC_PREFIX and LOG_LEVEL for a `ccc` command. A wrong value is bad usage: one
 * ConfigError line naming the variable and the fix, thrown before anything connects.
 */
export function readCliEnv(env: NodeJS.ProcessEnv = process.env): SharedEnv {
  const parsed = sharedEnvSchema.safeParse(env);
  if (parsed.success) return clusterKeyPrefix(parsed.data, env);
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "the environment");
    return `${name} is not valid (${issue.message})${FIX[name] ? `: ${FIX[name]}` : ""}`;
  });
  throw new ConfigError(`${problems.join("; ")}.`);
}

/** CCC_TASK_SECRET for `ccc retry`, which signs the task it queues; missing is bad usage, like a wrong one. */
export function readTaskSecretEnv(env: NodeJS.ProcessEnv = process.env): TaskSecrets {
  return requireTaskSecret(readCliEnv(env).CCC_TASK_SECRET, "cli");
}

/** CCC_BUDGETS for `ccc usage`; a wrong one is bad usage, like any other variable. */
export function readBudgetsEnv(env: NodeJS.ProcessEnv = process.env): Budget[] {
  const parsed = parseBudgets(env.CCC_BUDGETS);
  if (!parsed.ok) throw new ConfigError(`CCC_BUDGETS is not valid: ${parsed.message}.`);
  return parsed.budgets;
}
