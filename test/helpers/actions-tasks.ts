import type { IntakeDeps } from "../../src/app/intake-deps.js";
import { ACTIONS_QUEUE, addActionsTask } from "../../src/dispatcher/actions-queue.js";
import type { TaskData } from "../../src/queue/task-data.js";
import { taskJobId } from "../../src/queue/task-queues.js";
import { branchName } from "../../src/workspace/branch-name.js";

export const ACTIONS_OWNER = "octo-org";
export const ACTIONS_REPO = "hello";

/** Queues an actions-mode task the way the app does for a repository in `mode: actions`. */
export async function enqueueActionsTask(deps: IntakeDeps, options: { number: number; specialty?: string; installationId?: number }): Promise<TaskData> {
  const owner = ACTIONS_OWNER;
  const repo = ACTIONS_REPO;
  const title = `Task ${options.number}`;
  const taskId = `${owner}/${repo}#${options.number}`;
  const specialty = options.specialty ?? "backend";
  const branch = branchName(options.number, title);
  const installationId = options.installationId ?? 4242;
  const claim = await deps.store.claim({
    taskId,
    owner,
    repo,
    issueNumber: options.number,
    installationId,
    title,
    state: "queued",
    specialty,
    priority: "normal",
    reason: "test",
    branch,
    baseBranch: "main",
    queue: ACTIONS_QUEUE,
    draftPullRequest: false,
    queuedAt: Date.now(),
  });
  const data: TaskData = {
    taskId,
    run: claim.run,
    repo: { owner, name: repo, cloneUrl: `https://github.com/${owner}/${repo}.git`, defaultBranch: "main" },
    installationId,
    issue: { number: options.number, title, body: "Do the thing.", url: `https://github.com/${owner}/${repo}/issues/${options.number}`, author: "maintainer" },
    comments: [],
    specialty,
    priority: "normal",
    reason: "test",
    trigger: { kind: "label", actor: "maintainer", deliveryId: `d-${options.number}` },
    branch,
    settings: { maxTurns: 7, timeoutMinutes: 20, allowedTools: ["Edit", "Read"], permissionMode: "acceptEdits", draftPullRequest: false },
    createdAt: Date.now(),
  };
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
