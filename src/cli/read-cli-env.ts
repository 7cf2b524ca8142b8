import { ConfigError } from "../config/env-error.js";
import { sharedEnvSchema, type SharedEnv } from "../config/shared-env.js";
import { parseBudgets, type Budget } from "../ops/usage/parse-budgets.js";

/** What to do about each variable, after zod's word on what is wrong with it. */
const FIX: Record<string, string> = {
  REDIS_URL: "set it to the cluster's Redis, e.g. redis://127.0.0.1:6379",
  CCC_PREFIX: "use the prefix the app was started with (default ccc)",
  LOG_LEVEL: "use trace, debug, info, warn, error, fatal or silent",
};

/**
 * REDIS_URL, CCC_PREFIX and LOG_LEVEL for a `ccc` command. A wrong value is bad usage: one
 * ConfigError line naming the variable and the fix, thrown before anything connects.
 */
export function readCliEnv(env: NodeJS.ProcessEnv = process.env): SharedEnv {
  const parsed = sharedEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "the environment");
    return `${name} is not valid (${issue.message})${FIX[name] ? `: ${FIX[name]}` : ""}`;
  });
  throw new ConfigError(`${problems.join("; ")}.`);
}

/** CCC_BUDGETS for `ccc usage`; a wrong one is bad usage, like any other variable. */
export function readBudgetsEnv(env: NodeJS.ProcessEnv = process.env): Budget[] {
  const parsed = parseBudgets(env.CCC_BUDGETS);
  if (!parsed.ok) throw new ConfigError(`CCC_BUDGETS is not valid: ${parsed.message}.`);
  return parsed.budgets;
}
