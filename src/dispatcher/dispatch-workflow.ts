import type { TaskData } from "../queue/task-data.js";
import type { GitHubClient } from "../github/github-client.js";
import type { TraceCarrier } from "../telemetry/trace-carrier.js";

export interface WorkflowTarget {
  /** File name in `.github/workflows/`, e.g. `claude-agent.yml`. */
  workflow: string;
  /** Branch or tag to run the workflow from. */
  ref: string;
}

/** The workflow's `path` as its runs report it, for a file name in `.github/workflows/`. Pure. */
export function workflowPath(workflow: string): string {
  return `.github/workflows/${workflow}`;
}

/**
 * The `workflow_dispatch` inputs of `.github/workflows/claude-agent.yml` for one task. All
 * strings: the dispatch API sends strings anyway, and the action validates them. The inputs
 * added later (permission mode, draft, role) go only when they differ from the Action's
 * defaults, so a workflow copied before them keeps working for repositories that do not set
 * them; one that does gets a clear refusal from GitHub instead of its settings ignored.
 * `traceparent` (the dispatch span's context) goes only when given, i.e. with tracing on. Pure.
 */
export function workflowInputs(data: TaskData, dispatchId: string, trace?: TraceCarrier): Record<string, string> {
  return {
    "issue-number": String(data.issue.number),
    "task-id": data.taskId,
    run: String(data.run),
    specialty: data.specialty,
    model: data.settings.model ?? "",
    "max-turns": String(data.settings.maxTurns),
    "timeout-minutes": String(data.settings.timeoutMinutes),
    "allowed-tools": data.settings.allowedTools.join(","),
    ...(data.settings.permissionMode !== "acceptEdits" ? { "permission-mode": data.settings.permissionMode } : {}),
    ...(data.settings.draftPullRequest ? { "draft-pull-request": "true" } : {}),
    ...(data.settings.role ? { role: data.settings.role } : {}),
    "dispatch-id": dispatchId,
    ...(trace ? { traceparent: trace.traceparent } : {}),
  };
}

/** `POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches`; needs the app's *Actions: write*. */
export async function dispatchWorkflow(octokit: GitHubClient, data: TaskData, target: WorkflowTarget, dispatchId: string, trace?: TraceCarrier): Promise<void> {
  await octokit.rest.actions.createWorkflowDispatch({
    owner: data.repo.owner,
    repo: data.repo.name,
    workflow_id: target.workflow,
    ref: target.ref,
    inputs: workflowInputs(data, dispatchId, trace),
  });
}
