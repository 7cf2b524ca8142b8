import type { Context } from "probot";
import { cancelTask } from "../control/cancel-task.js";
import { firstDelivery } from "../queue/delivery-dedupe.js";
import { formatTaskId } from "../shared/task-id.js";
import { STATE_LABELS } from "../shared/task-state.js";
import type { IntakeDeps } from "./intake-deps.js";
import { loadRepoConfig } from "./load-repo-config.js";
import { issueContextFrom } from "./issue-context-from.js";

/** Closing the issue cancels its live task: nobody wants a PR for a closed issue. */
export async function handleClosed(deps: IntakeDeps, context: Context<"issues.closed">): Promise<void> {
  const ctx = issueContextFrom(context);
  const taskId = formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
  if (!(await firstDelivery(deps.redis, deps.prefix, ctx.deliveryId))) return;
  await cancelTask(deps, taskId, `@${ctx.actor} (issue closed)`);
}

/** Removing the trigger label (by a person) takes the issue away from Claude. */
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
  const stillTriggered = ctx.issue.labels.some(
    (l) => !STATE_LABELS.includes(l) && (l === trigger || l.startsWith(`${trigger}:`)),
  );
  if (stillTriggered) return;
  if (!(await firstDelivery(deps.redis, deps.prefix, ctx.deliveryId))) return;
  const taskId = formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
  await cancelTask(deps, taskId, `@${ctx.actor} (label ${label} removed)`);
}
