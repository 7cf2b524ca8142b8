import type { Redis } from "ioredis";
import { parseRepoConfig, REPO_CONFIG_PATH, type RepoConfigResult } from "../config/repo-config.js";
import type { GitHubClient } from "./github-client.js";

/** Marks "no config file" in the cache, so a repository without one is not asked every time. */
const MISSING = "\u0000missing";

export interface RepoConfigLookup {
  octokit: GitHubClient;
  redis: Redis;
  prefix: string;
  cacheSeconds: number;
  owner: string;
  repo: string;
}

/** Reads and validates `.github/claude-cluster.yml` from the default branch, cached briefly. */
export async function loadRepoConfig(lookup: RepoConfigLookup): Promise<RepoConfigResult> {
  const key = `${lookup.prefix}:repo-config:${lookup.owner}/${lookup.repo}`;
  let text = await lookup.redis.get(key);
  if (text === null) {
    text = (await fetchConfigText(lookup)) ?? MISSING;
    if (lookup.cacheSeconds > 0) await lookup.redis.set(key, text, "EX", lookup.cacheSeconds);
  }
  return parseRepoConfig(text === MISSING ? undefined : text);
}

async function fetchConfigText(lookup: RepoConfigLookup): Promise<string | undefined> {
  try {
    const response = await lookup.octokit.rest.repos.getContent({
      owner: lookup.owner,
      repo: lookup.repo,
      path: REPO_CONFIG_PATH,
      mediaType: { format: "raw" },
    });
    return typeof response.data === "string" ? response.data : JSON.stringify(response.data);
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
}
