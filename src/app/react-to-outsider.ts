import type { ReactEvent } from "../reporter/events.js";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";

/** 👎 on the comment: seen, and not run. The only answer a user without write access gets. */
export const OUTSIDER_REACTION: ReactEvent["content"] = "-1";

/** At most one such reaction per issue in this window, however many commands are posted. */
export const OUTSIDER_REACTION_WINDOW_SECONDS = 600;

/**
 * Answers a `/claude …` comment from a user without write access with a reaction, never a
 * comment: every answer is a GitHub write, and anyone who can comment could make us spam the
 * issue. Rate-limited per issue through a Redis key with a TTL. Returns whether it reacted.
 */
export async function reactToOutsider(deps: IntakeDeps, ctx: IssueContext, commentId: number): Promise<boolean> {
  const key = `${deps.prefix}:outsider-reaction:${ctx.owner}/${ctx.repo}#${ctx.issue.number}`;
  const first = await deps.redis.set(key, String(commentId), "EX", OUTSIDER_REACTION_WINDOW_SECONDS, "NX");
  if (first !== "OK") return false;
  await deps.events.emit(
    { type: "react", installationId: ctx.installationId, owner: ctx.owner, repo: ctx.repo, commentId, content: OUTSIDER_REACTION },
    { jobId: `react-${ctx.deliveryId}` },
  );
  return true;
}
