import type { Authorization } from "./authorize.js";
import type { IntakeDeps } from "./intake-deps.js";
import { mayControlCluster, repoRole } from "../github/permission.js";

/**
 * Whether `actor` may pause, resume or stop the whole cluster from a comment. That reaches
 * every repository, so the repository the comment is on grants nothing: only a login in
 * `CCC_ADMINS`, or a maintainer or admin of `CCC_OPS_REPO`. With neither set, nobody may.
 */
export async function authorizeClusterControl(deps: IntakeDeps, actor: string): Promise<Authorization> {
  const admins = (deps.clusterAdmins ?? []).map((login) => login.toLowerCase());
  if (admins.includes(actor.toLowerCase())) return { ok: true };
  if (!deps.opsRepo) {
    return {
      ok: false,
      why:
        admins.length > 0
          ? `@${actor} is not in the app's \`CCC_ADMINS\`, and the app has no \`CCC_OPS_REPO\`.`
          : "Cluster-wide controls from comments are off: the app has neither `CCC_ADMINS` nor `CCC_OPS_REPO` set.",
    };
  }
  let ops: Awaited<ReturnType<NonNullable<IntakeDeps["opsRepo"]>>>;
  try {
    ops = await deps.opsRepo();
  } catch (error) {
    deps.log.warn({ err: error }, "could not reach the ops repository to check a cluster control");
    return { ok: false, why: "The app could not check access to its `CCC_OPS_REPO` (is the app installed there?)." };
  }
  const role = await repoRole({
    octokit: ops.octokit,
    redis: deps.redis,
    prefix: deps.prefix,
    cacheSeconds: deps.permissionCacheSeconds,
    owner: ops.owner,
    repo: ops.repo,
    username: actor,
  });
  if (mayControlCluster(role)) return { ok: true };
  return {
    ok: false,
    why: `@${actor} has ${role} access to ${ops.owner}/${ops.repo}, the cluster's ops repository; this needs maintain or admin there, or a place in the app's \`CCC_ADMINS\`.`,
  };
}
