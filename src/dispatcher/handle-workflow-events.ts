import type { Context } from "probot";
import type { IntakeDeps } from "../app/intake-deps.js";
import { dispatchIdFrom } from "./dispatch-id.js";
import { DispatchStore } from "./dispatch-store.js";
import { followWorkflowJob, type WorkflowEvent } from "./follow-workflow-job.js";

/** `workflow_job` deliveries: a dispatched task's job was queued, started or finished. */
export async function handleWorkflowJob(deps: IntakeDeps, context: Context<"workflow_job">): Promise<void> {
  const job = context.payload.workflow_job;
  await follow(deps, context.octokit, dispatchIdFrom(job.name), {
    kind: "job",
    action: context.payload.action,
    runId: job.run_id,
    runnerName: job.runner_name,
    conclusion: job.conclusion,
    htmlUrl: job.html_url ?? "",
  });
}

/** `workflow_run` deliveries: they name the run id early, and tell of runs whose job never started. */
export async function handleWorkflowRun(deps: IntakeDeps, context: Context<"workflow_run">): Promise<void> {
  const run = context.payload.workflow_run;
  // `display_title` is the workflow's `run-name`; some payload variants lack it.
  const title = "display_title" in run ? run.display_title : undefined;
  await follow(deps, context.octokit, dispatchIdFrom(title), {
    kind: "run",
    action: context.payload.action,
    runId: run.id,
    conclusion: run.conclusion,
    htmlUrl: run.html_url,
  });
}

async function follow(deps: IntakeDeps, octokit: Context["octokit"], dispatchId: string | undefined, event: WorkflowEvent): Promise<void> {
  // Most workflow events are other workflows: only our tagged ones are looked up.
  if (dispatchId === undefined) return;
  const dispatches = new DispatchStore(deps.redis, deps.prefix);
  const dispatch = await dispatches.get(dispatchId);
  if (!dispatch) return;
  await followWorkflowJob({ ...deps, dispatches, now: deps.now ?? Date.now }, octokit, dispatch, event);
}
