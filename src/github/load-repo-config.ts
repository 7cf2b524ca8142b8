import type { RedisClient } from "../shared/redis-client.js";
import { REPO_CONFIG_PATH, type RepoConfigResult } from "../config/repo-config.js";
import { parseRepoConfig } from "../config/parse-repo-config.js";
import type { GitHubClient } from "./github-client.js";

/** Marks "no config file" in the cache, so a repository without one is not asked every time. */
const MISSING = "\u0000missing";

/** The largest config file read; a bigger one is refused rather than parsed (or cached) on every delivery. */
export const MAX_REPO_CONFIG_BYTES = 64 * 1024;

/** Marks "the file is too big" in the cache, followed by its size in bytes. */
const TOO_LARGE = "\u0000too-large:";

export interface RepoConfigLookup {
  octokit: GitHubClient;
  redis: RedisClient;
  prefix: string;
  cacheSeconds: number;
  owner: string;
  repo: string;
  /** The cache entry at `repoConfigKey`, when the caller read it with other commands (null: none); read here when absent. */
  cached?: string | null;
}

/** Where the repository's config text (or the marker of no file) is cached. */
export function repoConfigKey(prefix: string, owner: string, repo: string): string {
  return `${prefix}:repo-config:${owner}/${repo}`;
}

/** Reads and validates `.github/claude-cluster.yml` from the default branch, cached briefly. */
export async function loadRepoConfig(lookup: RepoConfigLookup): Promise<RepoConfigResult> {
  const key = repoConfigKey(lookup.prefix, lookup.owner, lookup.repo);
  let text = lookup.cached !== undefined ? lookup.cached : await lookup.redis.get(key);
  if (text === null) {
    const fetched = await fetchConfigText(lookup);
    const bytes = fetched === undefined ? 0 : Buffer.byteLength(fetched, "utf8");
    text = fetched === undefined ? MISSING : bytes > MAX_REPO_CONFIG_BYTES ? `${TOO_LARGE}${bytes}` : fetched;
    if (lookup.cacheSeconds > 0) await lookup.redis.set(key, text, "EX", lookup.cacheSeconds);
  }
  if (text.startsWith(TOO_LARGE)) {
    const kib = Math.ceil(Number(text.slice(TOO_LARGE.length)) / 1024);
    return {
      ok: false,
      problems: [{ field: "", message: `the file is ${kib} KiB; the limit is ${MAX_REPO_CONFIG_BYTES / 1024} KiB. Shorten it.` }],
    };
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
