import type { Attributes } from "@opentelemetry/api";
import { taskSpanAttributes } from "../../../src/queue/task-span-attributes.js";
import { GENERAL } from "../../../src/shared/specialty.js";
import type { TraceCarrier } from "../../../src/telemetry/trace-carrier.js";
import type { ActionInputs } from "../inputs.js";
import type { JobContext } from "./job-context.js";

/**
 * What names the task on the Action's "task run" span, known before the issue is read: the
 * task as the agent names it, the runner and the workflow run. Ids and names only.
 */
export function actionTaskAttributes(inputs: ActionInputs, job: JobContext): Attributes {
  const taskId = inputs["task-id"] ?? `${job.owner}/${job.repo}#${inputs["issue-number"]}`;
  return {
    ...taskSpanAttributes({ taskId, run: inputs.run, specialty: inputs.specialty ?? GENERAL }),
    "github.issue.number": inputs["issue-number"],
    "ccc.runner": job.RUNNER_NAME,
    "cicd.pipeline.run.id": job.GITHUB_RUN_ID,
    ...(inputs["dispatch-id"] ? { "ccc.dispatch.id": inputs["dispatch-id"] } : {}),
  };
}

/** The trace the job joins: the dispatcher's span, when the `traceparent` input held a valid one. */
export function inputTrace(inputs: ActionInputs): TraceCarrier | undefined {
  return inputs.traceparent && "carrier" in inputs.traceparent ? inputs.traceparent.carrier : undefined;
}
