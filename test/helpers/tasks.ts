import type { IntakeDeps } from "../../src/app/intake-deps.js";
import type { TaskData } from "../../src/queue/task-data.js";
import { claimTask, type TaskDraft } from "../../src/queue/task-factory.js";
import { taskQueueName } from "../../src/queue/task-queues.js";
import { branchName } from "../../src/workspace/branch-name.js";

export interface TestTaskOptions {
  owner?: string;
  repo?: string;
  number: number;
  title?: string;
  cloneUrl?: string;
  specialty?: string;
  installationId?: number;
  /** Queue recorded on the task; defaults to the specialty's. */
  queue?: string;
  settings?: Partial<TaskData["settings"]>;
  /** The trace the task was queued in, as the app writes it when tracing is on. */
  trace?: TaskData["trace"];
}

/** Claims a task record and builds its job data the way the app does, without queueing it. */
export async function claimTestTask(deps: IntakeDeps, options: TestTaskOptions): Promise<TaskData> {
  const owner = options.owner ?? "octo-org";
  const repo = options.repo ?? "hello";
  const title = options.title ?? `Task ${options.number}`;
  const taskId = `${owner}/${repo}#${options.number}`;
  const specialty = options.specialty ?? "general";
  const installationId = options.installationId ?? 1;
  const branch = branchName(options.number, title);
  const draft: TaskDraft = {
    taskId,
    repo: { owner, name: repo, cloneUrl: options.cloneUrl ?? `https://github.com/${owner}/${repo}.git`, defaultBranch: "main" },
    installationId,
    issue: { number: options.number, title, body: "Do the thing.", url: `https://github.com/${owner}/${repo}/issues/${options.number}`, author: "maintainer" },
    comments: [],
    specialty,
    priority: "normal",
    reason: "test",
    trigger: { kind: "label", actor: "maintainer", deliveryId: `d-${options.number}` },
    branch,
    settings: { maxTurns: 5, timeoutMinutes: 5, allowedTools: ["Edit"], permissionMode: "acceptEdits", draftPullRequest: false, ...options.settings },
    createdAt: Date.now(),
    ...(options.trace ? { trace: options.trace } : {}),
  };
  const claim = await claimTask(deps.store, draft, options.queue ?? taskQueueName(specialty));
  // A live run keeps its number; the tests that claim twice look at what the second claim did.
  const run = claim.created ? claim.task.run : claim.run;
  return { ...draft, run, trigger: { ...draft.trigger, deliveryId: `d-${options.number}-${run}` } };
}

/** Queues a task the way the app does, without a webhook: for agent-side tests. */
export async function enqueueDirect(deps: IntakeDeps, options: TestTaskOptions & { cloneUrl: string; timeoutMinutes?: number }): Promise<TaskData> {
  const { timeoutMinutes, ...rest } = options;
  const data = await claimTestTask(deps, { ...rest, settings: { ...rest.settings, ...(timeoutMinutes ? { timeoutMinutes } : {}) } });
  await deps.queues.add(data);
  return data;
}
