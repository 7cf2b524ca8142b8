import type { Context } from "probot";
import { cancelTask } from "../control/cancel-task.js";
import { dispatchLoginWaitsNow } from "../dispatcher/login-waits.js";
import { publishControl } from "../store/control-channel.js";
import { SESSION_TIMEOUT_LABEL } from "../reporter/session-issue.js";
import { readSessionIssue, sessionIssueAgentKey, writeSessionIssue } from "../store/session-issues.js";
import { firstDelivery } from "../queue/delivery-dedupe.js";
import { formatTaskId } from "../shared/task-id.js";
import { STATE_LABELS } from "../shared/task-state.js";
import { actorRole } from "./authorize.js";
import type { IntakeDeps } from "./intake-deps.js";
import { loadRepoConfig } from "../github/load-repo-config.js";
import { issueContextFrom } from "./issue-context-from.js";
import { mayTrigger } from "../github/permission.js";
import { onBlockerClosed } from "./check-dependencies.js";

/**
 * Closing the issue cancels its live task: nobody wants a PR for a closed issue. The tasks
 * blocked by it are checked again: for the last of their blockers, they start now.
 */
export async function handleClosed(deps: IntakeDeps, context: Context<"issues.closed">): Promise<void> {
  const ctx = issueContextFrom(context);
  if (!(await firstDelivery(deps.redis, deps.prefix, ctx.deliveryId))) return;
  if (ctx.issue.labels.includes(SESSION_TIMEOUT_LABEL)) {
    await askAgentToVerifyLogin(deps, ctx.owner, ctx.repo, ctx.issue.number);
    // A runner's issue: its tasks go back to the dispatcher now, not at their fallback time.
    const due = await dispatchLoginWaitsNow(deps, ctx.owner, ctx.repo);
    if (due.length > 0) {
      deps.log.info({ issue: ctx.issue.number, tasks: due }, "session-timeout issue closed: runner tasks waiting for a login dispatched again");
      deps.dispatchNow?.();
    }
    return;
  }
  const taskId = formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
  await cancelTask(deps, taskId, `@${ctx.actor} (issue closed)`);
  const getOctokit = deps.getOctokit ?? (async () => ctx.octokit);
  await onBlockerClosed({ ...deps, getOctokit }, { owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
}

/** A closed session-timeout issue means "I logged in again": the agent checks and resumes. */
async function askAgentToVerifyLogin(deps: IntakeDeps, owner: string, repo: string, number: number): Promise<void> {
  const agent = await deps.redis.get(sessionIssueAgentKey(deps.prefix, owner, repo, number));
  if (!agent) return;
  const issue = await readSessionIssue(deps.redis, deps.prefix, agent);
  if (issue) await writeSessionIssue(deps.redis, deps.prefix, agent, { ...issue, open: false, closedAt: Date.now() });
  await publishControl(deps.redis, deps.prefix, { type: "verify-login", agent });
  deps.log.info({ agent, issue: number }, "session-timeout issue closed: asking the agent to verify its login");
}

/**
 * Removing the trigger label takes the issue away from Claude, when a person who may hand it
 * to Claude does it: triage access is enough to remove a label, not to steer Claude.
 */
export async function handleUnlabeled(deps: IntakeDeps, context: Context<"issues.unlabeled">): Promise<void> {
  const { payload } = context;
  const label = payload.label?.name;
  if (!label || payload.sender.type === "Bot") return;
  const ctx = issueContextFrom(context);
  const config = await loadRepoConfig({ ...ctx, redis: deps.redis, prefix: deps.prefix, cacheSeconds: deps.configCacheSeconds });
  if (!config.ok) return;
  const trigger = config.config.triggerLabel;
  if (label !== trigger && !label.startsWith(`${trigger}:`)) return;
  // Another trigger label still on the issue keeps the task.
  const stillTriggered = ctx.issue.labels.some((l) => !STATE_LABELS.includes(l) && (l === trigger || l.startsWith(`${trigger}:`)));
  if (stillTriggered) return;
  if (!(await firstDelivery(deps.redis, deps.prefix, ctx.deliveryId))) return;
  const role = await actorRole(deps, ctx);
  if (!mayTrigger(role)) {
    deps.log.info(
      { actor: ctx.actor, role, repo: `${ctx.owner}/${ctx.repo}`, issue: ctx.issue.number },
      "trigger label removed by a user without write access: task kept",
    );
    return;
  }
  const taskId = formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
  await cancelTask(deps, taskId, `@${ctx.actor} (label ${label} removed)`);
}
