import type { ApplicationFunction, Probot } from "probot";
import { handleWorkflowJob, handleWorkflowRun } from "../dispatcher/handle-workflow-events.js";
import { handleComment } from "./handle-comment.js";
import { handleClosed, handleUnlabeled } from "./handle-cancel-events.js";
import { handleLabeled } from "./handle-labeled.js";
import type { IntakeDeps } from "./intake-deps.js";

/**
 * The Probot app. Handlers only check, parse, classify and enqueue: everything they write
 * goes to Redis, so the webhook is answered without waiting on GitHub writes.
 */
export function createApp(deps: IntakeDeps, onLoad?: (app: Probot) => void): ApplicationFunction {
  return (app) => {
    app.on("issues.labeled", (context) => handleLabeled(deps, context));
    app.on("issues.unlabeled", (context) => handleUnlabeled(deps, context));
    app.on("issues.closed", (context) => handleClosed(deps, context));
    app.on("issue_comment.created", (context) => handleComment(deps, context));
    // Self-hosted runner mode: the dispatcher follows the workflows it started.
    app.on("workflow_job", (context) => handleWorkflowJob(deps, context));
    app.on("workflow_run", (context) => handleWorkflowRun(deps, context));
    onLoad?.(app);
  };
}
