import { z } from "zod";
import { ConfigError } from "./env-error.js";
import { sharedEnvSchema } from "./shared-env.js";

const seconds = (fallback: number) => z.coerce.number().int().min(0).max(86_400).default(fallback);

/** The app's own settings; Probot reads APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, PORT itself. */
export const appEnvSchema = sharedEnvSchema.extend({
  /** How long a user's repository permission is trusted before GitHub is asked again. */
  CCC_PERMISSION_CACHE_SECONDS: seconds(60),
  /** How long a repository's `.github/claude-cluster.yml` is trusted before it is read again. */
  CCC_CONFIG_CACHE_SECONDS: seconds(60),
  /** `owner/repo` that gets session-timeout issues; unset: the repository of the task that found out. */
  CCC_OPS_REPO: z
    .string()
    .regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "write it as owner/repo")
    .optional(),
  /** Run the reporter (the one GitHub writer) in this process. Turn off only when a separate process runs it. */
  CCC_REPORTER: z.enum(["on", "off"]).default("on"),
});

export type AppEnv = z.infer<typeof appEnvSchema>;

export function readAppEnv(env: NodeJS.ProcessEnv = process.env): AppEnv {
  const parsed = appEnvSchema.safeParse(env);
  if (!parsed.success) throw ConfigError.fromZod("The app's environment", parsed.error);
  return parsed.data;
}
