import type { IntakeDeps } from "../../src/app/intake-deps.js";
import type { TaskData } from "../../src/queue/task-data.js";
import { taskJobId, taskQueueName } from "../../src/queue/task-queues.js";
import { branchName } from "../../src/workspace/branch-name.js";

/** Queues a task the way the app does, without a webhook: for agent-side tests. */
export async function enqueueDirect(
  deps: IntakeDeps,
  options: { owner?: string; repo?: string; number: number; title?: string; cloneUrl: string; specialty?: string; timeoutMinutes?: number },
): Promise<TaskData> {
  const owner = options.owner ?? "octo-org";
  const repo = options.repo ?? "hello";
  const title = options.title ?? `Task ${options.number}`;
  const taskId = `${owner}/${repo}#${options.number}`;
  const specialty = options.specialty ?? "general";
  const branch = branchName(options.number, title);
  const claim = await deps.store.claim({
    taskId,
    owner,
    repo,
    issueNumber: options.number,
    installationId: 1,
    title,
    state: "queued",
    specialty,
    priority: "normal",
    reason: "test",
    branch,
    baseBranch: "main",
    queue: taskQueueName(specialty),
    draftPullRequest: false,
    queuedAt: Date.now(),
  });
  const data: TaskData = {
    taskId,
    run: claim.run,
    repo: { owner, name: repo, cloneUrl: options.cloneUrl, defaultBranch: "main" },
    installationId: 1,
    issue: { number: options.number, title, body: "Do the thing.", url: `https://github.com/${owner}/${repo}/issues/${options.number}`, author: "maintainer" },
    comments: [],
    specialty,
    priority: "normal",
    reason: "test",
    trigger: { kind: "label", actor: "maintainer", deliveryId: `d-${options.number}-${claim.run}` },
    branch,
    settings: { maxTurns: 5, timeoutMinutes: options.timeoutMinutes ?? 5, allowedTools: ["Edit"], permissionMode: "acceptEdits", draftPullRequest: false },
    createdAt: Date.now(),
  };
  await deps.queues.add(data);
  return data;
}
