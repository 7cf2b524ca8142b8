import { readRedisTopology } from "../../config/read-redis-topology.js";
import { clusterKeyPrefix, sharedEnvSchema } from "../../config/shared-env.js";
import type { RedisTopology } from "../../shared/redis-topology.js";
import { table, type Output } from "../output.js";
import type { CheckResult } from "./check.js";
import { checkClaude } from "./check-claude.js";
import { checkGit } from "./check-git.js";
import { checkGitHubApp } from "./check-github-app.js";
import { checkRedis } from "./check-redis.js";

export interface DoctorOptions {
  /** `owner/name` or a clone URL whose git access to check. */
  repo?: string;
  json: boolean;
  output: Output;
  env?: NodeJS.ProcessEnv;
}

const MARK = { ok: "ok", warn: "WARN", fail: "FAIL", skip: "skip" } as const;

/** `ccc doctor`: checks what an app host or agent PC needs. Exit code 1 when any check fails. */
export async function doctorCommand(options: DoctorOptions): Promise<number> {
  const env = options.env ?? process.env;
  // A malformed REDIS_URL is a failed check here, not the default Redis checked in its place.
  // So is a wrong sentinel setting: the check names it.
  const redisUrl = sharedEnvSchema.shape.REDIS_URL.safeParse(env.REDIS_URL);
  let topology: RedisTopology | Error;
  try {
    topology = readRedisTopology(env);
  } catch (error) {
    topology = error as Error;
  }
  const [redis, claude, git, app] = await Promise.all([
    !redisUrl.success
      ? ([
          {
            name: "redis",
            status: "fail",
            detail: `REDIS_URL is not a URL: ${redisUrl.error.issues[0]?.message}`,
            fix: "set REDIS_URL to the cluster's Redis, e.g. redis://127.0.0.1:6379",
          },
        ] satisfies CheckResult[])
      : topology instanceof Error
        ? ([{ name: "redis", status: "fail", detail: topology.message, fix: "see docs/configuration.md (Redis)" }] satisfies CheckResult[])
        : checkRedis(topology, clusterKeyPrefix({ CCC_PREFIX: env.CCC_PREFIX?.trim() || "ccc" }, env).CCC_PREFIX),
    checkClaude(env.CLAUDE_BIN ?? "claude"),
    checkGit(options.repo, env.CCC_GIT_URL),
    checkGitHubApp(env),
  ]);
  const results: CheckResult[] = [...redis, ...claude, git, ...app];
  const failed = results.filter((r) => r.status === "fail").length;
  if (options.json) {
    options.output.out(JSON.stringify({ ok: failed === 0, checks: results }, null, 2));
  } else {
    options.output.out(
      table(
        ["CHECK", "STATUS", "DETAIL"],
        results.map((r) => [r.name, MARK[r.status], r.detail]),
      ),
    );
    const todo = results.filter((r) => (r.status === "fail" || r.status === "warn") && r.fix);
    if (todo.length > 0) options.output.out(`\nTo fix:\n${todo.map((r) => `- ${r.name}: ${r.fix}`).join("\n")}`);
    options.output.out(failed === 0 ? "\nAll required checks passed." : `\n${failed} check(s) failed.`);
  }
  return failed === 0 ? 0 : 1;
}
