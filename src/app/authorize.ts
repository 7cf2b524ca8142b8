import type { RepoConfig } from "../config/repo-config.js";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";
import { mayTrigger, repoRole, type RepoRole } from "../github/permission.js";

export type Authorization = { ok: true } | { ok: false; why: string };

/** The actor's role on the delivery's repository (cached; see repoRole). `cached`: the cache entry, read already. */
export function actorRole(deps: IntakeDeps, ctx: IssueContext, cached?: string | null): Promise<RepoRole> {
  return repoRole({
    ...(cached !== undefined ? { cached } : {}),
    octokit: ctx.octokit,
    redis: deps.redis,
    prefix: deps.prefix,
    cacheSeconds: deps.permissionCacheSeconds,
    owner: ctx.owner,
    repo: ctx.repo,
    username: ctx.actor,
  });
}

/**
 * Whether the actor may hand this issue to Claude or act on its task: write, maintain or
 * admin on the repository, and on the repo's allow-list if it has one. Cluster-wide
 * controls are decided elsewhere (authorizeClusterControl). `known`: the role, when the
 * caller has just looked it up.
 */
export async function authorize(deps: IntakeDeps, ctx: IssueContext, config: RepoConfig, known?: RepoRole): Promise<Authorization> {
  const role = known ?? (await actorRole(deps, ctx));
  if (!mayTrigger(role)) {
    return { ok: false, why: `@${ctx.actor} has ${role} access to ${ctx.owner}/${ctx.repo}; this needs write, maintain or admin.` };
  }
  const allowList = config.allowedUsers.map((u) => u.toLowerCase());
  if (allowList.length > 0 && !allowList.includes(ctx.actor.toLowerCase())) {
    return { ok: false, why: `@${ctx.actor} is not in \`allowedUsers\` of \`.github/claude-cluster.yml\`.` };
  }
  return { ok: true };
}
