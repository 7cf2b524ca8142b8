import type { ReactEvent } from "../queue/reporter-event.js";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";

/** 👎 on the comment or the labelled issue: seen, and not run. The only answer a user without write access gets. */
export const OUTSIDER_REACTION: ReactEvent["content"] = "-1";

/** At most one such reaction per issue in this window, however many commands are posted. */
export const OUTSIDER_REACTION_WINDOW_SECONDS = 600;

/**
 * Answers a `/claude …` comment (`commentId`) or a trigger label (no comment: the issue gets
 * it) from a user without write access with a reaction, never a comment: every answer is a
 * GitHub write, and anyone who can comment or label could make us spam the issue.
 * Rate-limited per issue, comments and labels together, through a Redis key with a TTL.
 * Returns whether it reacted.
 */
export async function reactToOutsider(deps: IntakeDeps, ctx: IssueContext, commentId?: number): Promise<boolean> {
  const key = `${deps.prefix}:outsider-reaction:${ctx.owner}/${ctx.repo}#${ctx.issue.number}`;
  const first = await deps.redis.set(key, commentId === undefined ? "issue" : String(commentId), "EX", OUTSIDER_REACTION_WINDOW_SECONDS, "NX");
  if (first !== "OK") return false;
  await deps.events.emit(
    {
      type: "react",
      installationId: ctx.installationId,
      owner: ctx.owner,
      repo: ctx.repo,
      issueNumber: ctx.issue.number,
      ...(commentId === undefined ? {} : { commentId }),
      content: OUTSIDER_REACTION,
    },
    { jobId: `react-${ctx.deliveryId}` },
  );
  return true;
}
