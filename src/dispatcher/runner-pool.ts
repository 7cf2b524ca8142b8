import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { parseStored } from "../shared/parse-stored.js";
import type { GitHubClient } from "../github/github-client.js";

/** A self-hosted runner as the dispatcher needs to see it. */
export interface RunnerInfo {
  name: string;
  /** `online` or `offline`. */
  status: string;
  busy: boolean;
  labels: string[];
}

const runnersSchema = z.array(
  z.object({ name: z.string(), status: z.string(), busy: z.boolean(), labels: z.array(z.string()) }) satisfies z.ZodType<RunnerInfo>,
);

/** The labels a runner must carry to take a task of `specialty` (the workflow's `runs-on`). */
export function requiredLabels(specialty: string): string[] {
  return ["self-hosted", "claude", specialty];
}

/** Online, not busy, and labelled for the specialty (GitHub compares labels case-insensitively). Pure. */
export function idleRunnersFor(runners: readonly RunnerInfo[], specialty: string): RunnerInfo[] {
  const needed = requiredLabels(specialty).map((label) => label.toLowerCase());
  return runners.filter((runner) => {
    const labels = new Set(runner.labels.map((label) => label.toLowerCase()));
    return runner.status === "online" && !runner.busy && needed.every((label) => labels.has(label));
  });
}

export interface RunnerPoolOptions {
  redis: RedisClient;
  prefix: string;
  /** How long one answer of the runners API is trusted; every replica shares it. @defaultValue 15 */
  cacheSeconds?: number;
}

/**
 * The repository's self-hosted runners (`GET /repos/{owner}/{repo}/actions/runners`, which
 * needs the app's *Administration: read* permission), cached briefly in Redis so that a queue
 * of fifty tasks costs one API call per repository and interval, not fifty.
 */
export class RunnerPool {
  private readonly cacheSeconds: number;

  constructor(private readonly options: RunnerPoolOptions) {
    this.cacheSeconds = options.cacheSeconds ?? 15;
  }

  key(owner: string, repo: string): string {
    return `${this.options.prefix}:runners:${owner}/${repo}`;
  }

  async list(octokit: GitHubClient, owner: string, repo: string): Promise<RunnerInfo[]> {
    const key = this.key(owner, repo);
    const cached = await this.options.redis.get(key);
    if (cached !== null) return parseStored(runnersSchema, cached, key);
    const runners = await octokit.paginate(octokit.rest.actions.listSelfHostedRunnersForRepo, { owner, repo, per_page: 100 });
    const infos: RunnerInfo[] = runners.map((runner) => ({
      name: runner.name,
      status: runner.status,
      busy: runner.busy,
      labels: runner.labels.map((label) => label.name),
    }));
    if (this.cacheSeconds > 0) await this.options.redis.set(key, JSON.stringify(infos), "EX", this.cacheSeconds);
    return infos;
  }

  /** Forgets the cached list, e.g. after a dispatch made one of its idle runners busy. */
  async forget(owner: string, repo: string): Promise<void> {
    await this.options.redis.del(this.key(owner, repo));
  }
}
