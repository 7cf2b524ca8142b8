import type { RedisClient } from "../shared/redis-client.js";
import type { GitHubClient } from "./github-client.js";

/** Roles that may hand work to Claude. */
const TRIGGER_ROLES = new Set(["admin", "maintain", "write"]);
/** Roles that may pause, resume or stop the whole cluster. */
const ADMIN_ROLES = new Set(["admin", "maintain"]);

export type RepoRole = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface PermissionLookup {
  octokit: GitHubClient;
  redis: RedisClient;
  prefix: string;
  cacheSeconds: number;
  owner: string;
  repo: string;
  username: string;
  /** The cache entry at `permissionKey`, when the caller read it with other commands (null: none); read here when absent. */
  cached?: string | null;
}

/** Where a user's role on a repository is cached. */
export function permissionKey(prefix: string, owner: string, repo: string, username: string): string {
  return `${prefix}:perm:${owner}/${repo}:${username.toLowerCase()}`;
}

/**
 * The user's role on the repository, from GitHub, cached briefly in Redis so a burst of
 * commands costs one API call and every replica shares the answer.
 */
export async function repoRole(lookup: PermissionLookup): Promise<RepoRole> {
  const key = permissionKey(lookup.prefix, lookup.owner, lookup.repo, lookup.username);
  const cached = lookup.cached !== undefined ? lookup.cached : await lookup.redis.get(key);
  if (cached) return cached as RepoRole;
  let role: RepoRole;
  try {
    const { data } = await lookup.octokit.rest.repos.getCollaboratorPermissionLevel({
      owner: lookup.owner,
      repo: lookup.repo,
      username: lookup.username,
    });
    // role_name tells maintain and triage apart; permission folds them into write and read.
    role = normaliseRole(data.role_name ?? data.permission);
  } catch (error) {
    // 404: not a collaborator at all.
    if ((error as { status?: number }).status === 404) role = "none";
    else throw error;
  }
  if (lookup.cacheSeconds > 0) await lookup.redis.set(key, role, "EX", lookup.cacheSeconds);
  return role;
}

function normaliseRole(value: string): RepoRole {
  switch (value) {
    case "admin":
    case "maintain":
    case "write":
    case "triage":
    case "read":
      return value;
    case "push":
      return "write";
    case "pull":
      return "read";
    default:
      return "none";
  }
}

export function mayTrigger(role: RepoRole): boolean {
  return TRIGGER_ROLES.has(role);
}

export function mayControlCluster(role: RepoRole): boolean {
  return ADMIN_ROLES.has(role);
}
