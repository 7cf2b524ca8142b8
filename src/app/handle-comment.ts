import type { Context } from "probot";
import { HELP_TEXT } from "../commands/help-text.js";
import { parseCommand, type Command } from "../commands/parse-command.js";
import { cancelTask } from "../control/cancel-task.js";
import { firstDelivery } from "../queue/delivery-dedupe.js";
import { formatTaskId } from "../shared/task-id.js";
import { actorRole, authorize } from "./authorize.js";
import { authorizeClusterControl } from "./authorize-cluster-control.js";
import { configErrorReply } from "./config-error-reply.js";
import { alreadyLiveReply, enqueueTask } from "./enqueue-task.js";
import { enqueuePullRequestTask, fetchPullRequest, pullRequestRefusal } from "./enqueue-pull-request.js";
import { fixCiOnRequest } from "./ci/fix-ci-on-request.js";
import { pullRequestOutcomeReply } from "./pull-request-outcome-reply.js";
import type { RepoConfig } from "../config/repo-config.js";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";
import { issueContextFrom } from "./issue-context-from.js";
import { loadRepoConfig } from "../github/load-repo-config.js";
import { mayTrigger } from "../github/permission.js";
import { reactToOutsider } from "./react-to-outsider.js";
import { releaseBlockedTask } from "./release-blocked-task.js";
import { reply } from "./reply.js";
import { switchCluster } from "./switch-cluster.js";
import { statusReply } from "./status-reply.js";

/** Where a command was given, and what gave it: a comment, or (on a pull request) a review's body. */
export type CommandSource =
  | { target: "issue"; trigger: { kind: "comment"; commentId: number } }
  | { target: "pull-request"; trigger: { kind: "comment"; commentId: number } | { kind: "review"; reviewId: number } };

/** `/claude …` comments on issues and pull requests. */
export async function handleComment(deps: IntakeDeps, context: Context<"issue_comment.created">): Promise<void> {
  const { payload } = context;
  if (payload.sender.type === "Bot" || payload.comment.user?.type === "Bot") return;
  const target = payload.issue.pull_request ? "pull-request" : "issue";
  const parsed = parseCommand(payload.comment.body ?? "", { target });
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
  const trigger = { kind: "comment" as const, commentId: payload.comment.id };
  await runCommand(deps, ctx, parsed.command, target === "issue" ? { target, trigger } : { target, trigger });
}

/** Runs a command from a user with write access, on the issue or pull request of `ctx`. */
export async function runCommand(deps: IntakeDeps, ctx: IssueContext, command: Command, source: CommandSource): Promise<void> {
  const taskId = formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
  const here = source.target === "issue" ? "this issue" : "this pull request";
  switch (command.name) {
    case "help":
      return reply(deps, ctx, HELP_TEXT);
    case "status":
      return reply(deps, ctx, statusReply(await deps.store.get(taskId), source.target));
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
    if (outcome === "not-live") await reply(deps, ctx, `There is no queued or running Claude task on ${here} to cancel.`);
    return;
  }
  if (source.target === "pull-request") return runOnPullRequest(deps, ctx, config.config, command, source.trigger);

  if (command.name === "run" && command.force) {
    // `--force` on a task that waits for its blockers starts it now, as it is.
    const current = await deps.store.get(taskId);
    if (current?.state === "blocked") {
      const released = await releaseBlockedTask(deps, current, `forced by @${ctx.actor}`);
      if (released === "not-blocked") await reply(deps, ctx, "Claude's task on this issue is no longer blocked; nothing new was queued.");
      return;
    }
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
    trigger: source.trigger,
    hint,
    ...(command.name === "run" && command.notBefore !== undefined ? { notBefore: command.notBefore } : {}),
    ...(command.name === "run" && command.force ? { force: true } : {}),
  });
  if (outcome.status === "already-live") {
    await reply(deps, ctx, alreadyLiveReply(outcome.state));
  }
}

/** `/claude run` and `/claude retry` on a pull request: Claude adds commits to its head branch. */
async function runOnPullRequest(deps: IntakeDeps, ctx: IssueContext, config: RepoConfig, command: Command, trigger: CommandSource["trigger"]): Promise<void> {
  if (command.name !== "run" && command.name !== "retry" && command.name !== "fix-ci") return;
  const pr = await fetchPullRequest(ctx);
  const refusal = pullRequestRefusal(pr);
  if (refusal) {
    deps.log.info(
      { deliveryId: ctx.deliveryId, repo: `${ctx.owner}/${ctx.repo}`, pr: pr.number, headRepo: pr.headRepo, state: pr.state },
      "pull request refused",
    );
    return reply(deps, ctx, refusal);
  }
  if (command.name === "fix-ci") {
    const answer = await fixCiOnRequest(deps, { ctx, config, pr, trigger, ...(command.instructions ? { instructions: command.instructions } : {}) });
    if (answer) await reply(deps, ctx, answer);
    return;
  }
  const outcome = await enqueuePullRequestTask(deps, { ctx, config, pr, trigger, command });
  const answer = pullRequestOutcomeReply(outcome);
  if (answer) await reply(deps, ctx, answer);
}
