import type { RepoConfig } from "../config/repo-config.js";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";
import { mayControlCluster, mayTrigger, repoRole } from "./permission.js";

export type Authorization = { ok: true } | { ok: false; why: string };

/**
 * Whether the actor may do `what` on this repository: write, maintain or admin for tasks,
 * maintain or admin for cluster controls, and on the repo's allow-list if it has one.
 */
export async function authorize(
  deps: IntakeDeps,
  ctx: IssueContext,
  config: RepoConfig,
  what: "task" | "cluster",
): Promise<Authorization> {
  const role = await repoRole({
    octokit: ctx.octokit,
    redis: deps.redis,
    prefix: deps.prefix,
    cacheSeconds: deps.permissionCacheSeconds,
    owner: ctx.owner,
    repo: ctx.repo,
    username: ctx.actor,
  });
  const allowed = what === "task" ? mayTrigger(role) : mayControlCluster(role);
  if (!allowed) {
    const needed = what === "task" ? "write, maintain or admin" : "maintain or admin";
    return { ok: false, why: `@${ctx.actor} has ${role} access to ${ctx.owner}/${ctx.repo}; this needs ${needed}.` };
  }
  const allowList = config.allowedUsers.map((u) => u.toLowerCase());
  if (allowList.length > 0 && !allowList.includes(ctx.actor.toLowerCase())) {
    return { ok: false, why: `@${ctx.actor} is not in \`allowedUsers\` of \`.github/claude-cluster.yml\`.` };
  }
  return { ok: true };
}
