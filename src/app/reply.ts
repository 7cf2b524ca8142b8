import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";

/**
 * Queues a comment on the issue for the reporter to post. Keyed on the delivery, so a
 * redelivered webhook never answers twice.
 */
export async function reply(deps: IntakeDeps, ctx: IssueContext, body: string): Promise<void> {
  await deps.events.emit({
    type: "reply",
    installationId: ctx.installationId,
    owner: ctx.owner,
    repo: ctx.repo,
    issueNumber: ctx.issue.number,
    body,
    dedupeKey: `reply-${ctx.deliveryId}`,
  });
}
