import type { Context } from "probot";
import type { RedisClient } from "../shared/redis-client.js";
import { loadRepoConfig } from "../github/load-repo-config.js";
import { DEFAULT_REPO_CONFIG } from "../config/repo-config.js";
import type { GitHubClient } from "../github/github-client.js";
import type { Logger } from "../shared/logger.js";
import { dispatchIdFrom } from "./dispatch-id.js";
import { DispatchStore, type DispatchRecord } from "../store/dispatch-store.js";
import { UsageStore } from "../store/usage-store.js";
import { workflowPath } from "./dispatch-workflow.js";
import { followWorkflowJob, type FollowDeps, type WorkflowEvent } from "./follow-workflow-job.js";
import { PullRequestIndex } from "../store/pull-request-index.js";

/** What the workflow handlers use of the app's intake deps. */
export interface WorkflowEventDeps extends Pick<FollowDeps, "store" | "queues" | "events"> {
  redis: RedisClient;
  prefix: string;
  log: Logger;
  /** How long a repository's `.github/claude-cluster.yml` is cached. */
  configCacheSeconds: number;
  now?: () => number;
}

/** Where a workflow run came from, as a `workflow_run` delivery or `GET …/actions/runs/{id}` tells it. */
export interface RunOrigin {
  /** The workflow file, `.github/workflows/claude-agent.yml`. */
  path: string;
  /** What started the run: `workflow_dispatch`, `pull_request`, `push`, … */
  event: string;
  /** `owner/name` of the repository the run's code comes from: a fork's for a fork's pull request. */
  headRepository: string | undefined;
}

/**
 * Why an event of `repository` about run `runId` is not the dispatch's, or undefined when it may
 * be. The `[ccc:<id>]` tag alone proves nothing: run names are public and any workflow, in a fork
 * or in another installed repository, can carry it. Pure.
 */
export function eventMismatch(dispatch: DispatchRecord, repository: string, runId: number): string | undefined {
  const expected = `${dispatch.owner}/${dispatch.repo}`;
  if (!sameRepository(repository, expected)) return `the event is from ${repository}, the dispatch went to ${expected}`;
  if (dispatch.runId !== undefined && runId !== dispatch.runId) return `run ${runId} is not the dispatch's run ${dispatch.runId}`;
  return undefined;
}

/** Why a run is not one the dispatcher started (`workflow_dispatch` of `path` on the repository's own code), or undefined. Pure. */
export function runMismatch(dispatch: DispatchRecord, path: string, run: RunOrigin): string | undefined {
  const expected = `${dispatch.owner}/${dispatch.repo}`;
  if (run.path !== path) return `the run is of ${run.path}, not of ${path}`;
  if (run.event !== "workflow_dispatch") return `the run was started by ${run.event}, not by workflow_dispatch`;
  if (!sameRepository(run.headRepository ?? "", expected)) return `the run's code comes from ${run.headRepository ?? "no repository"}, not from ${expected}`;
  return undefined;
}

/** GitHub owner and repository names are case-insensitive. */
function sameRepository(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** `workflow_job` deliveries: a dispatched task's job was queued, started or finished. */
export async function handleWorkflowJob(deps: WorkflowEventDeps, context: Context<"workflow_job">): Promise<void> {
  const job = context.payload.workflow_job;
  const dispatch = await dispatchFor(deps, dispatchIdFrom(job.name));
  if (!dispatch) return;
  const repository = repositoryOf(context.payload);
  const log = deliveryLog(deps, context.id, dispatch, repository, job.run_id);
  let mismatch = eventMismatch(dispatch, repository, job.run_id);
  if (mismatch === undefined && dispatch.runId === undefined) {
    // A job event can come before any run event. Its run is checked through the API before its id
    // is adopted, so the task still starts; if the API does not answer, the run's own events name it.
    const run = await fetchRunOrigin(context.octokit, dispatch, job.run_id, log);
    if (run === undefined) return;
    mismatch = runMismatch(dispatch, await workflowPathOf(deps, context.octokit, dispatch), run);
  }
  if (mismatch !== undefined) return ignore(log, mismatch);
  await follow(deps, context.octokit, dispatch, context.id, {
    kind: "job",
    action: context.payload.action,
    runId: job.run_id,
    runnerName: job.runner_name,
    conclusion: job.conclusion,
    htmlUrl: job.html_url ?? "",
  });
}

/** `workflow_run` deliveries: they name the run id early, and tell of runs whose job never started. */
export async function handleWorkflowRun(deps: WorkflowEventDeps, context: Context<"workflow_run">): Promise<void> {
  const run = context.payload.workflow_run;
  // `display_title` is the workflow's `run-name`; some payload variants lack it.
  const title = "display_title" in run ? run.display_title : undefined;
  const dispatch = await dispatchFor(deps, dispatchIdFrom(title));
  if (!dispatch) return;
  const repository = repositoryOf(context.payload);
  const log = deliveryLog(deps, context.id, dispatch, repository, run.id);
  const origin: RunOrigin = { path: run.path, event: run.event, headRepository: run.head_repository?.full_name };
  const mismatch = eventMismatch(dispatch, repository, run.id) ?? runMismatch(dispatch, await workflowPathOf(deps, context.octokit, dispatch), origin);
  if (mismatch !== undefined) return ignore(log, mismatch);
  await follow(deps, context.octokit, dispatch, context.id, {
    kind: "run",
    action: context.payload.action,
    runId: run.id,
    conclusion: run.conclusion,
    htmlUrl: run.html_url,
  });
}

/** The dispatch a tagged event names; most workflow events are other workflows' and carry no tag. */
async function dispatchFor(deps: WorkflowEventDeps, dispatchId: string | undefined): Promise<DispatchRecord | undefined> {
  return dispatchId === undefined ? undefined : new DispatchStore(deps.redis, deps.prefix).get(dispatchId);
}

function repositoryOf(payload: { repository: { name: string; owner: { login: string } } }): string {
  return `${payload.repository.owner.login}/${payload.repository.name}`;
}

function deliveryLog(deps: WorkflowEventDeps, deliveryId: string, dispatch: DispatchRecord, repository: string, runId: number): Logger {
  return deps.log.child({ deliveryId, dispatchId: dispatch.id, taskId: dispatch.taskId, repo: repository, runId });
}

function ignore(log: Logger, mismatch: string): void {
  log.info({ mismatch }, "workflow event ignored: it carries the dispatch's tag but is not its run");
}

async function follow(deps: WorkflowEventDeps, octokit: GitHubClient, dispatch: DispatchRecord, deliveryId: string, event: WorkflowEvent): Promise<void> {
  const dispatches = new DispatchStore(deps.redis, deps.prefix);
  // followWorkflowJob adds the task, dispatch and run to the log itself.
  const usage = new UsageStore(deps.redis, deps.prefix);
  const pullRequests = new PullRequestIndex(deps.redis, deps.prefix);
  await followWorkflowJob(
    { ...deps, log: deps.log.child({ deliveryId }), dispatches, usage, pullRequests, now: deps.now ?? Date.now },
    octokit,
    dispatch,
    event,
  );
}

/** The job's run as the API tells it, looked up in the dispatch's repository; undefined when it could not be. */
async function fetchRunOrigin(octokit: GitHubClient, dispatch: DispatchRecord, runId: number, log: Logger): Promise<RunOrigin | undefined> {
  try {
    const { data } = await octokit.rest.actions.getWorkflowRun({ owner: dispatch.owner, repo: dispatch.repo, run_id: runId });
    return { path: data.path, event: data.event, headRepository: data.head_repository?.full_name };
  } catch (error) {
    log.warn({ err: error }, "could not look up the job's workflow run; the job event is ignored until the run's own events name it");
    return undefined;
  }
}

/** The dispatch's workflow path; records written before it was kept there take it from the repository's config. */
async function workflowPathOf(deps: WorkflowEventDeps, octokit: GitHubClient, dispatch: DispatchRecord): Promise<string> {
  if (dispatch.workflowPath !== undefined) return dispatch.workflowPath;
  const result = await loadRepoConfig({
    octokit,
    redis: deps.redis,
    prefix: deps.prefix,
    cacheSeconds: deps.configCacheSeconds,
    owner: dispatch.owner,
    repo: dispatch.repo,
  });
  // The dispatcher too falls back to the defaults when the config is broken.
  return workflowPath((result.ok ? result.config : DEFAULT_REPO_CONFIG).actions.workflow);
}
