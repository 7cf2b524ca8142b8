import { z } from "zod";
import { ConfigError } from "./env-error.js";

/**
 * The keys tasks are signed with (`CCC_TASK_SECRET`): the first signs, any verifies, so a
 * rotation can keep the previous key for the tasks still queued under it.
 */
export type TaskSecrets = readonly [string, ...string[]];

const MIN_LENGTH = 32;

/**
 * `CCC_TASK_SECRET`: the key the app signs tasks with and agents check them against. During a
 * rotation, `new,previous`: the first signs, either verifies. Empty counts as unset.
 */
export const taskSecretSchema = z.preprocess(
  (text) => (text === "" ? undefined : text),
  z
    .string()
    .transform((text) => text.split(",").map((key) => key.trim()))
    .pipe(z.array(z.string().min(MIN_LENGTH, `each key at least ${MIN_LENGTH} characters; generate one with \`openssl rand -hex 32\``)).min(1))
    .optional(),
);

/** Who needs the secret, and so what the one line saying it is missing tells them to do. */
const MISSING: Record<"app" | "agent" | "cli", string> = {
  app: "CCC_TASK_SECRET is not set, so the app could not sign tasks and agents would refuse them: set CCC_TASK_SECRET in the app's .env (or its environment) to a random value, e.g. from `openssl rand -hex 32`, give every agent the same value, then start the app again.",
  agent:
    "CCC_TASK_SECRET is not set, so this agent could not tell the app's tasks from forged ones: copy CCC_TASK_SECRET from the app's .env into this agent's environment (its shell, its service's EnvironmentFile, or <workdir>/agent.env), then start it again.",
  cli: "CCC_TASK_SECRET is not set, so `ccc retry` could not sign the task it would queue: copy CCC_TASK_SECRET from the app's .env into this shell's environment.",
};

/** The parsed secret, or a ConfigError of one line that names the variable and where to copy it from. */
export function requireTaskSecret(secrets: string[] | undefined, who: keyof typeof MISSING): TaskSecrets {
  const [first, ...previous] = secrets ?? [];
  if (first === undefined) throw new ConfigError(MISSING[who]);
  return [first, ...previous];
}
