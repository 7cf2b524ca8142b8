import type { Context } from "probot";
import { parseCommand } from "../commands/parse-command.js";
import { mayTrigger } from "../github/permission.js";
import { firstDelivery } from "../queue/delivery-dedupe.js";
import { actorRole } from "./authorize.js";
import { runCommand } from "./handle-comment.js";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";
import { deliveryContext } from "./issue-context-from.js";
import { reply } from "./reply.js";

type ReviewEvent = Context<"pull_request_review.submitted">;

/**
 * `/claude …` in the body of a submitted review works as in a comment on the pull request,
 * whatever the review's state (request changes, comment, approve): the command is what asks
 * for Claude. The review's inline comments reach the prompt with the rest of the feedback.
 */
export async function handleReview(deps: IntakeDeps, context: ReviewEvent): Promise<void> {
  const { payload } = context;
  if (payload.sender.type === "Bot" || payload.review.user?.type === "Bot") return;
  const parsed = parseCommand(payload.review.body ?? "", { target: "pull-request" });
  if (parsed.kind === "none") return;
  const ctx = pullRequestContextFrom(context);
  if (!(await firstDelivery(deps.redis, deps.prefix, ctx.deliveryId))) return;

  const role = await actorRole(deps, ctx);
  if (!mayTrigger(role)) {
    // GitHub has no reactions on a review's body, and a reply would be a write anyone could cause.
    deps.log.info(
      { deliveryId: ctx.deliveryId, repo: `${ctx.owner}/${ctx.repo}`, pr: ctx.issue.number, actor: ctx.actor, role },
      "command in a review from a user without write access: ignored",
    );
    return;
  }
  if (parsed.kind === "error") {
    await reply(deps, ctx, `:warning: ${parsed.error}\n\n${parsed.hint}`);
    return;
  }
  await runCommand(deps, ctx, parsed.command, { target: "pull-request", trigger: { kind: "review", reviewId: payload.review.id } });
}

/** A review delivery as the handlers see an issue: the pull request is the "issue" (they share numbers). */
function pullRequestContextFrom(context: ReviewEvent): IssueContext {
  const pr = context.payload.pull_request;
  return {
    ...deliveryContext(context),
    issue: {
      number: pr.number,
      title: pr.title,
      body: pr.body ?? null,
      url: pr.html_url,
      author: pr.user?.login ?? "ghost",
      labels: (pr.labels ?? []).map((l) => l.name),
      comments: 0,
    },
  };
}
