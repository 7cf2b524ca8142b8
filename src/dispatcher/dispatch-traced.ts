import { SpanKind } from "@opentelemetry/api";
import type { GitHubClient } from "../github/github-client.js";
import { httpStatus } from "../github/github-errors.js";
import type { TaskData } from "../queue/task-data.js";
import type { Logger } from "../shared/logger.js";
import { carrierOf } from "../telemetry/trace-carrier.js";
import { tracingOn, withSpan } from "../telemetry/tracer.js";
import { dispatchWorkflow, type WorkflowTarget } from "./dispatch-workflow.js";

export interface DispatchTracedDeps {
  octokit: GitHubClient;
  log: Logger;
  /** Repositories (`owner/name`) already warned that their workflow lacks the `traceparent` input: one warning each. */
  warned: Set<string>;
}

/**
 * The workflow dispatch as a PRODUCER span in the task's trace, whose context goes to the
 * workflow as its `traceparent` input (docs/observability.md, "Runner mode"). Only with tracing
 * on and a task that has a trace: a workflow copied before that input keeps working with
 * tracing off. With tracing on, such a workflow makes GitHub refuse the dispatch (422,
 * "Unexpected inputs provided"): it is sent again at once without the input, and the
 * repository warned once. Tracing never fails or delays a task.
 */
export async function dispatchTraced(deps: DispatchTracedDeps, data: TaskData, target: WorkflowTarget, dispatchId: string): Promise<void> {
  const attributes = {
    "ccc.task.id": data.taskId,
    "ccc.task.run": data.run,
    "ccc.specialty": data.specialty,
    "ccc.dispatch.id": dispatchId,
    "ccc.workflow": target.workflow,
  };
  await withSpan("dispatch workflow", { kind: SpanKind.PRODUCER, parent: data.trace, attributes }, async (span) => {
    const trace = tracingOn() && data.trace ? carrierOf() : undefined;
    if (!trace) return dispatchWorkflow(deps.octokit, data, target, dispatchId);
    try {
      await dispatchWorkflow(deps.octokit, data, target, dispatchId, trace);
      span.setAttribute("ccc.dispatch.traceparent_sent", true);
    } catch (error) {
      if (!refusedTraceparent(error)) throw error;
      span.setAttribute("ccc.dispatch.traceparent_sent", false);
      const repo = `${data.repo.owner}/${data.repo.name}`;
      if (!deps.warned.has(repo)) {
        deps.warned.add(repo);
        deps.log.warn(
          { repo, workflow: target.workflow },
          `the workflow .github/workflows/${target.workflow} of ${repo} does not declare the traceparent input: its runs are traced apart ` +
            "from their tasks. Copy the current claude-agent.yml there (docs/observability.md, Runner mode)",
        );
      }
      await dispatchWorkflow(deps.octokit, data, target, dispatchId);
    }
  });
}

/** GitHub's answer to an input the workflow does not declare: 422 `Unexpected inputs provided: ["traceparent"]`. */
export function refusedTraceparent(error: unknown): boolean {
  const message = error instanceof Error ? error.message : "";
  return httpStatus(error) === 422 && /unexpected inputs/i.test(message) && message.includes("traceparent");
}
