import type { Context } from "probot";
import { firstDelivery } from "../queue/delivery-dedupe.js";
import type { IntakeDeps } from "./intake-deps.js";
import { recordPullRequestFate } from "./record-pull-request-fate.js";

/** A pull request was merged or closed: the task that opened it learns its fate. */
export async function handlePullRequestClosed(deps: IntakeDeps, context: Context<"pull_request.closed">): Promise<void> {
  const { payload } = context;
  const pull = payload.pull_request;
  if (!(await firstDelivery(deps.redis, deps.prefix, context.id))) return;
  const closedAt = Date.parse(pull.closed_at ?? "") || (deps.now ?? Date.now)();
  await recordPullRequestFate(
    deps,
    {
      owner: payload.repository.owner.login,
      repo: payload.repository.name,
      number: pull.number,
      merged: pull.merged === true,
      openedAt: Date.parse(pull.created_at) || closedAt,
      at: (pull.merged_at ? Date.parse(pull.merged_at) : NaN) || closedAt,
    },
    deps.log.child({ deliveryId: context.id }),
  );
}
