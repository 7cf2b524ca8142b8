import { z } from "zod";
import { parseBudgets } from "./parse-budgets.js";
import { ConfigError } from "./env-error.js";
import { clusterKeyPrefix, sharedEnvSchema } from "./shared-env.js";

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
  /**
   * GitHub logins, comma-separated, that may `/claude pause|resume|stop` from any installed
   * repository; the maintainers and admins of `CCC_OPS_REPO` may too. Unset, with no
   * `CCC_OPS_REPO`: those comments are refused (`ccc` and the API always work).
   */
  CCC_ADMINS: z
    .string()
    .default("")
    .transform((text) =>
      text
        .split(",")
        .map((login) => login.trim().replace(/^@/, ""))
        .filter((login) => login !== ""),
    )
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "GitHub logins, comma-separated, e.g. `alice,bob`"))),
  /** Run the reporter (the one GitHub writer) in this process. Turn off only when a separate process runs it. */
  CCC_REPORTER: z.enum(["on", "off"]).default("on"),
  /** While GitHub answers 5xx or not at all, the reporter's first wait before trying an event again; it doubles per try. */
  CCC_GITHUB_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(2_000),
  /** The reporter's longest wait between tries while GitHub is down: reports land at most about this long after it recovers. */
  CCC_GITHUB_RETRY_MAX_MS: z.coerce.number().int().min(1).max(3_600_000).default(60_000),
  /** Bearer token for `/api/v1`, `/metrics` and the dashboard's data. Long and random: `openssl rand -hex 32`. */
  CCC_API_TOKEN: z.string().min(16, "at least 16 characters; generate one with `openssl rand -hex 32`").optional(),
  /** `loopback-only` lets the API run without a token, but only when the server listens on loopback. */
  CCC_API_ALLOW_NO_TOKEN: z.enum(["loopback-only"]).optional(),
  /** Interface Probot listens on; unset means Probot's default, `localhost`. */
  HOST: z.string().optional(),
  /** How often the reconciler checks live tasks: running ones with no live job, queued ones no agent can take. */
  CCC_RECONCILE_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  /**
   * How long a commit's checks must be quiet (no check event) before the app looks at them and,
   * if they are red on a cluster pull request, starts a CI fix: one look for the several events
   * GitHub sends for one commit.
   */
  CCC_CI_SETTLE_SECONDS: z.coerce.number().min(0.1).max(3600).default(20),
  /**
   * How often the reconciler reads a blocked task's blockers from GitHub again, in case their
   * close event was missed (each close event checks its dependents at once anyway).
   */
  CCC_DEPENDENCY_CHECK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** How often the usage monitor compares spending with the budgets and raises alerts. */
  CCC_USAGE_CHECK_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** USD budgets per Claude account, `account=usd[/5h|24h|7d]`, comma-separated. */
  CCC_BUDGETS: z
    .string()
    .default("")
    .superRefine((text, ctx) => {
      const parsed = parseBudgets(text);
      if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message });
    }),
});

export type AppEnv = z.infer<typeof appEnvSchema>;

export function readAppEnv(env: NodeJS.ProcessEnv = process.env): AppEnv {
  const parsed = appEnvSchema.safeParse(env);
  if (!parsed.success) throw ConfigError.fromZod("The app's environment", parsed.error);
  return clusterKeyPrefix(parsed.data, env);
}
