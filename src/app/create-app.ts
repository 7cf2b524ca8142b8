import type { ApplicationFunction, Probot } from "probot";
import { handleWorkflowJob, handleWorkflowRun } from "../dispatcher/handle-workflow-events.js";
import { forgetDelivery } from "../queue/delivery-dedupe.js";
import { handleComment } from "./handle-comment.js";
import { handleClosed, handleUnlabeled } from "./handle-cancel-events.js";
import { handleLabeled } from "./handle-labeled.js";
import { handlePullRequestClosed, handlePullRequestReopened } from "./handle-pull-request-closed.js";
import { handleReview } from "./handle-review.js";
import { handleCheckEvent } from "./ci/handle-check-events.js";
import { handlePush } from "./ci/handle-push.js";
import { handleSynchronize } from "./ci/handle-synchronize.js";
import type { IntakeDeps } from "./intake-deps.js";
import { traceDeliveries } from "./trace-deliveries.js";
import { waitForRedis } from "./wait-for-redis.js";

/**
 * The Probot app. Handlers only check, parse, classify and enqueue: everything they write
 * goes to Redis, so the webhook is answered without waiting on GitHub writes.
 */
export function createApp(deps: IntakeDeps, onLoad?: (app: Probot) => void): ApplicationFunction {
  /**
   * A delivery whose handling failed is forgotten, so its redelivery is not dropped as a
   * duplicate. One that arrives while Redis is away waits for it a few seconds, then is answered
   * 503 before anything of it is written (waitForRedis).
   */
  const guard =
    <C extends { id: string }>(handler: (deps: IntakeDeps, context: C) => Promise<void>) =>
    async (context: C): Promise<void> => {
      await waitForRedis(deps.redis, deps.redisWaitMs);
      try {
        await handler(deps, context);
      } catch (error) {
        await forgetDelivery(deps.redis, deps.prefix, context.id).catch(() => {});
        throw error;
      }
    };
  return (app) => {
    // First: each delivery's span is active for every handler below.
    traceDeliveries(app);
    app.on("issues.labeled", guard(handleLabeled));
    app.on("issues.unlabeled", guard(handleUnlabeled));
    app.on("issues.closed", guard(handleClosed));
    app.on("issue_comment.created", guard(handleComment));
    // A pull request the cluster opened was merged or closed: its task ends merged or closed.
    app.on("pull_request.closed", guard(handlePullRequestClosed));
    app.on("pull_request.reopened", guard(handlePullRequestReopened));
    // `/claude run` in a review's body: Claude adds commits to the pull request.
    app.on("pull_request_review.submitted", guard(handleReview));
    // A check of a commit the cluster pushed finished: red CI on its pull request gets fixed.
    app.on(["check_suite.completed", "check_run.completed", "status"], guard(handleCheckEvent));
    // The base of a cluster pull request moved: a PR that now conflicts gets its base merged in.
    app.on("push", guard(handlePush));
    // A person pushed to a cluster pull request: it is no longer the cluster's work alone.
    app.on("pull_request.synchronize", guard(handleSynchronize));
    // Self-hosted runner mode: the dispatcher follows the workflows it started.
    app.on("workflow_job", (context) => handleWorkflowJob(deps, context));
    app.on("workflow_run", (context) => handleWorkflowRun(deps, context));
    onLoad?.(app);
  };
}
