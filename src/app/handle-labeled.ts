import type { Context } from "probot";
import { DEFAULT_REPO_CONFIG } from "../config/repo-config.js";
import { specialtySchema } from "../shared/specialty.js";
import { STATE_LABELS } from "../shared/task-state.js";
import { actorRole, authorize } from "./authorize.js";
import { configErrorReply } from "./config-error-reply.js";
import { alreadyLiveReply, enqueueTask } from "./enqueue-task.js";
import type { IntakeDeps } from "./intake-deps.js";
import { issueContextFrom } from "./issue-context-from.js";
import { loadRepoConfig } from "../github/load-repo-config.js";
import { mayTrigger } from "../github/permission.js";
import { reactToOutsider } from "./react-to-outsider.js";
import { readLabelDelivery } from "./read-label-delivery.js";
import { reply } from "./reply.js";

/** `claude` or `claude:<specialty>` on an open issue hands it to Claude. */
export async function handleLabeled(deps: IntakeDeps, context: Context<"issues.labeled">): Promise<void> {
  const { payload } = context;
  const label = payload.label?.name;
  // Bots never trigger: our own state labels arrive here as labeled events too.
  if (!label || payload.sender.type === "Bot" || STATE_LABELS.includes(label)) return;
  if (payload.issue.state !== "open") return;

  const ctx = issueContextFrom(context);
  // One round trip for the caches, the delivery mark and the task record: the mark of a label
  // that turns out not to be a trigger costs a tiny key that expires, and the reads a few
  // small replies; every trigger saves three round trips.
  const state = await readLabelDelivery(deps, ctx);
  const first = state.first;
  const config = await loadRepoConfig({ ...ctx, redis: deps.redis, prefix: deps.prefix, cacheSeconds: deps.configCacheSeconds, cached: state.configText });
  const trigger = config.ok ? config.config.triggerLabel : DEFAULT_REPO_CONFIG.triggerLabel;
  if (label !== trigger && !label.startsWith(`${trigger}:`)) return;
  if (!first) return;
  const log = deps.log.child({ deliveryId: ctx.deliveryId, repo: `${ctx.owner}/${ctx.repo}`, issue: ctx.issue.number });

  // Every answer is a GitHub write, and triage access is enough to label: a labeller without
  // write access gets at most a reaction on the issue, before any comment (a broken config
  // included: its problems are for the repository's writers).
  const role = await actorRole(deps, ctx, state.cachedRole);
  if (!mayTrigger(role)) {
    const reacted = await reactToOutsider(deps, ctx);
    log.info({ actor: ctx.actor, role, reacted }, "label by a user without write access: no reply");
    return;
  }
  if (!config.ok) {
    await reply(deps, ctx, configErrorReply(config.problems));
    return;
  }
  const auth = await authorize(deps, ctx, config.config, role);
  if (!auth.ok) {
    // A writer who is not on the repository's allow-list: told why, as for a command.
    log.info({ actor: ctx.actor }, "label by a user not on the allow-list ignored");
    await reply(deps, ctx, `:no_entry: Claude did not start. ${auth.why}`);
    return;
  }
  const specialty = label.startsWith(`${trigger}:`) ? label.slice(trigger.length + 1).toLowerCase() : undefined;
  if (specialty !== undefined && !specialtySchema.safeParse(specialty).success) {
    await reply(deps, ctx, `:warning: \`${label}\` does not name a specialty: use lowercase letters, digits and '-', e.g. \`${trigger}:frontend\`.`);
    return;
  }
  const outcome = await enqueueTask(deps, {
    ctx,
    config: config.config,
    trigger: { kind: "label" },
    existing: state.existing(),
    ...(specialty ? { hint: { specialty } } : {}),
  });
  if (outcome.status === "already-live") {
    await reply(deps, ctx, alreadyLiveReply(outcome.state));
    return;
  }
  if (outcome.status === "queued") log.info({ taskId: outcome.taskId, specialty: outcome.specialty, priority: outcome.priority }, "task queued");
  else
    log.info(
      { taskId: outcome.taskId, outcome },
      outcome.status === "blocked" ? "task held: blocked by open issues" : "task failed: its dependencies form a cycle",
    );
}
