import nock from "nock";
import type { IntakeDeps } from "../../src/app/intake-deps.js";
import { ACTIONS_QUEUE, addActionsTask } from "../../src/dispatcher/actions-queue.js";
import { dispatchTag } from "../../src/dispatcher/dispatch-id.js";
import { Dispatcher } from "../../src/dispatcher/dispatcher.js";
import type { DispatcherOptions } from "../../src/dispatcher/dispatcher-options.js";
import { ProbotOctokit } from "probot";
import type { TaskData } from "../../src/queue/task-data.js";
import { API, nockNoRepoConfig } from "./github-nock.js";
import { examplePayload } from "./payloads.js";
import { claimTestTask } from "./tasks.js";

export const ACTIONS_OWNER = "octo-org";
export const ACTIONS_REPO = "hello";

/** Queues an actions-mode task the way the app does for a repository in `mode: actions`. */
export async function enqueueActionsTask(
  deps: IntakeDeps,
  options: { number: number; specialty?: string; installationId?: number; settings?: Partial<TaskData["settings"]>; trace?: TaskData["trace"] },
): Promise<TaskData> {
  const data = await claimTestTask(deps, {
    owner: ACTIONS_OWNER,
    repo: ACTIONS_REPO,
    number: options.number,
    specialty: options.specialty ?? "backend",
    installationId: options.installationId ?? 4242,
    queue: ACTIONS_QUEUE,
    settings: { maxTurns: 7, timeoutMinutes: 20, allowedTools: ["Edit", "Read"], ...options.settings },
    ...(options.trace ? { trace: options.trace } : {}),
  });
  await addActionsTask(deps.queues, data);
  return data;
}

/** A runner as `GET /repos/{owner}/{repo}/actions/runners` lists it. */
export function runner(id: number, name: string, labels: string[], state: { status?: string; busy?: boolean } = {}) {
  return {
    id,
    name,
    os: "linux",
    status: state.status ?? "online",
    busy: state.busy ?? false,
    labels: labels.map((label, i) => ({ id: i + 1, name: label, type: i === 0 ? "read-only" : "custom" })),
  };
}

/** Where claude-agent.yml's runs say they come from (`workflow_run.path`). */
/** A dispatcher on the intake's Redis, store, queues and events, talking to GitHub through nock. */
export function testDispatcher(deps: IntakeDeps, more: Partial<DispatcherOptions> = {}): Dispatcher {
  return new Dispatcher({
    redis: deps.redis,
    prefix: deps.prefix,
    store: deps.store,
    queues: deps.queues,
    events: deps.events,
    getOctokit: async () => new ProbotOctokit({ auth: { token: "ghs_test" }, retry: { enabled: false }, throttle: { enabled: false } }),
    ...more,
  });
}

export const ACTIONS_WORKFLOW_PATH = ".github/workflows/claude-agent.yml";

/** Dispatches a queued actions task for real: an idle runner, no repo config, GitHub answering 204. Resolves the dispatch id the workflow was given. */
export async function dispatchActionsTask(deps: IntakeDeps, dispatcher: Dispatcher, options: { number: number }): Promise<string> {
  await enqueueActionsTask(deps, options);
  nock(API)
    .get(`/repos/${ACTIONS_OWNER}/${ACTIONS_REPO}/actions/runners`)
    .query(true)
    .reply(200, { total_count: 1, runners: [runner(1, "pc-2", ["self-hosted", "claude", "backend"])] });
  nockNoRepoConfig(ACTIONS_OWNER, ACTIONS_REPO);
  let dispatchId: string | undefined;
  nock(API)
    .post(`/repos/${ACTIONS_OWNER}/${ACTIONS_REPO}/actions/workflows/claude-agent.yml/dispatches`, (body: { inputs: Record<string, string> }) => {
      dispatchId = body.inputs["dispatch-id"];
      return true;
    })
    .reply(204);
  const { dispatched } = await dispatcher.tick();
  if (dispatchId === undefined || dispatched.length !== 1) throw new Error(`the task was not dispatched: ${JSON.stringify(dispatched)}`);
  return dispatchId;
}

export interface WorkflowEventOptions {
  dispatchId: string;
  runId: number;
  /** `owner/name` of the delivery's repository. @defaultValue octo-org/hello */
  repository?: string;
  /** `success`, `failure`, `cancelled`, … on completion. @defaultValue null */
  conclusion?: string | null;
}

/** A real `workflow_job` example, in `repository`, named as claude-agent.yml names its job: with the dispatch's tag. */
export function workflowJobPayload(action: "queued" | "in_progress" | "completed", options: WorkflowEventOptions) {
  const payload = inRepository(examplePayload("workflow_job", action), options.repository);
  payload.workflow_job.name = `Claude ${dispatchTag(options.dispatchId)}`;
  payload.workflow_job.run_id = options.runId;
  payload.workflow_job.runner_name = action === "queued" ? null : "pc-2";
  payload.workflow_job.conclusion = options.conclusion ?? null;
  return payload;
}

/** Where a run came from; by default the run the dispatcher started in octo-org/hello. */
export interface RunOriginOptions {
  /** @defaultValue ACTIONS_WORKFLOW_PATH */
  path?: string;
  /** @defaultValue workflow_dispatch */
  event?: string;
  /** `owner/name` the run's code comes from. @defaultValue the repository */
  headRepository?: string;
}

/** A real `workflow_run` example, titled as claude-agent.yml's `run-name` titles it: with the dispatch's tag. */
export function workflowRunPayload(action: "requested" | "in_progress" | "completed", options: WorkflowEventOptions & RunOriginOptions) {
  const payload = inRepository(examplePayload("workflow_run", "requested"), options.repository);
  payload.action = action;
  payload.workflow_run = {
    ...payload.workflow_run,
    ...workflowRun(options),
    status: action === "requested" ? "queued" : action,
    conclusion: options.conclusion ?? null,
  };
  return payload;
}

/** The run's fields that tell where it came from, as a `workflow_run` delivery and `GET …/actions/runs/{id}` both give them. */
export function workflowRun(options: WorkflowEventOptions & RunOriginOptions) {
  const repository = options.repository ?? `${ACTIONS_OWNER}/${ACTIONS_REPO}`;
  const head = options.headRepository ?? repository;
  return {
    id: options.runId,
    display_title: `Claude: an issue ${dispatchTag(options.dispatchId)}`,
    path: options.path ?? ACTIONS_WORKFLOW_PATH,
    event: options.event ?? "workflow_dispatch",
    html_url: `https://github.com/${repository}/actions/runs/${options.runId}`,
    repository: repositoryLite(repository),
    head_repository: repositoryLite(head),
  };
}

function repositoryLite(fullName: string) {
  const [owner, name] = fullName.split("/") as [string, string];
  return { id: fullName.length, name, full_name: fullName, owner: { login: owner }, fork: fullName !== `${ACTIONS_OWNER}/${ACTIONS_REPO}` };
}

function inRepository(payload: Record<string, any>, fullName = `${ACTIONS_OWNER}/${ACTIONS_REPO}`) {
  const [owner, name] = fullName.split("/") as [string, string];
  payload.repository.name = name;
  payload.repository.full_name = fullName;
  payload.repository.owner.login = owner;
  payload.installation = { id: 4242, node_id: "x" };
  return payload;
}
