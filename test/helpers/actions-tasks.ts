import type { IntakeDeps } from "../../src/app/intake-deps.js";
import { ACTIONS_QUEUE, addActionsTask } from "../../src/dispatcher/actions-queue.js";
import type { TaskData } from "../../src/queue/task-data.js";
import { claimTestTask } from "./tasks.js";

export const ACTIONS_OWNER = "octo-org";
export const ACTIONS_REPO = "hello";

/** Queues an actions-mode task the way the app does for a repository in `mode: actions`. */
export async function enqueueActionsTask(deps: IntakeDeps, options: { number: number; specialty?: string; installationId?: number }): Promise<TaskData> {
  const data = await claimTestTask(deps, {
    owner: ACTIONS_OWNER,
    repo: ACTIONS_REPO,
    number: options.number,
    specialty: options.specialty ?? "backend",
    installationId: options.installationId ?? 4242,
    queue: ACTIONS_QUEUE,
    settings: { maxTurns: 7, timeoutMinutes: 20, allowedTools: ["Edit", "Read"] },
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
