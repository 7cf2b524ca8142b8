import type { Context } from "probot";
import { HELP_TEXT } from "../commands/help-text.js";
import { parseCommand, type Command } from "../commands/parse-command.js";
import { cancelTask } from "../control/cancel-task.js";
import { firstDelivery } from "../queue/delivery-dedupe.js";
import { formatTaskId } from "../shared/task-id.js";
import { actorRole, authorize } from "./authorize.js";
import { authorizeClusterControl } from "./authorize-cluster-control.js";
import { configErrorReply } from "./config-error-reply.js";
import { enqueueTask } from "./enqueue-task.js";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";
import { issueContextFrom } from "./issue-context-from.js";
import { loadRepoConfig } from "../github/load-repo-config.js";
import { mayTrigger } from "../github/permission.js";
import { reactToOutsider } from "./react-to-outsider.js";
import { reply } from "./reply.js";
import { switchCluster } from "./switch-cluster.js";
import { statusReply } from "./status-reply.js";

/** `/claude …` comments on issues. */
export async function handleComment(deps: IntakeDeps, context: Context<"issue_comment.created">): Promise<void> {
  const { payload } = context;
  if (payload.sender.type === "Bot" || payload.comment.user?.type === "Bot") return;
  const parsed = parseCommand(payload.comment.body ?? "");
  if (parsed.kind === "none") return;
  const ctx = issueContextFrom(context);
  if (!(await firstDelivery(deps.redis, deps.prefix, ctx.deliveryId))) return;

  // Every answer is a GitHub write: users without write access get at most a reaction.
  const role = await actorRole(deps, ctx);
  if (!mayTrigger(role)) {
    const reacted = await reactToOutsider(deps, ctx, payload.comment.id);
    deps.log.info(
      { deliveryId: ctx.deliveryId, repo: `${ctx.owner}/${ctx.repo}`, issue: ctx.issue.number, actor: ctx.actor, role, reacted },
      "command from a user without write access: no reply",
    );
    return;
  }
  if (parsed.kind === "error") {
    await reply(deps, ctx, `:warning: ${parsed.error}\n\n${parsed.hint}`);
    return;
  }
  if (payload.issue.pull_request) {
    await reply(deps, ctx, "Claude works on issues, not pull requests: comment `/claude run` on the issue instead.");
    return;
  }
  await runCommand(deps, ctx, parsed.command, payload.comment.id);
}

async function runCommand(deps: IntakeDeps, ctx: IssueContext, command: Command, commentId: number): Promise<void> {
  const taskId = formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
  switch (command.name) {
    case "help":
      return reply(deps, ctx, HELP_TEXT);
    case "status":
      return reply(deps, ctx, statusReply(await deps.store.get(taskId)));
    default:
      break;
  }

  if (command.name === "pause" || command.name === "resume" || command.name === "stop") {
    // The whole cluster, not this repository: its config and its access levels do not apply.
    const auth = await authorizeClusterControl(deps, ctx.actor);
    if (!auth.ok) {
      return reply(
        deps,
        ctx,
        `:no_entry: \`/claude ${command.name}\` was not run. ${auth.why} \`ccc pause|resume|stop\` and the control API (\`/api/v1\`) always work; see docs/security.md, "Who may steer the cluster".`,
      );
    }
    return reply(deps, ctx, await switchCluster(deps, command.name, `@${ctx.actor}`));
  }
  const config = await loadRepoConfig({ ...ctx, redis: deps.redis, prefix: deps.prefix, cacheSeconds: deps.configCacheSeconds });
  if (!config.ok) return reply(deps, ctx, configErrorReply(config.problems));
  const auth = await authorize(deps, ctx, config.config);
  if (!auth.ok) return reply(deps, ctx, `:no_entry: \`/claude ${command.name}\` was not run. ${auth.why}`);

  if (command.name === "cancel") {
    const outcome = await cancelTask(deps, taskId, `@${ctx.actor}`);
    if (outcome === "not-live") await reply(deps, ctx, "There is no queued or running Claude task on this issue to cancel.");
    return;
  }

  // `retry` runs again where the last run left off: same specialty, same branch.
  const previous = command.name === "retry" ? await deps.store.get(taskId) : undefined;
  if (command.name === "retry" && !previous) {
    return reply(deps, ctx, "There is no earlier Claude task on this issue to retry: use `/claude run`.");
  }
  const hint =
    command.name === "run"
      ? { ...(command.specialty ? { specialty: command.specialty } : {}), ...(command.priority ? { priority: command.priority } : {}) }
      : { specialty: previous!.specialty, priority: previous!.priority };
  const outcome = await enqueueTask(deps, {
    ctx,
    config: config.config,
    trigger: { kind: "comment", commentId },
    hint,
    ...(command.name === "run" && command.notBefore !== undefined ? { notBefore: command.notBefore } : {}),
  });
  if (outcome.status === "already-live") {
    await reply(deps, ctx, `Claude is already on this issue (${outcome.state}); nothing new was queued.`);
  }
}
