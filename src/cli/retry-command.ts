import { AgentRegistry } from "../agent/registry.js";
import { retryTask } from "../control/retry-task.js";
import { TaskQueues } from "../queue/task-queues.js";
import { TaskStore } from "../queue/task-store.js";
import { EventQueue } from "../reporter/event-queue.js";
import { formatTaskId, parseTaskId } from "../shared/task-id.js";
import type { ClusterDeps } from "./cluster-commands.js";

/** `ccc retry owner/repo#n`: runs a finished task again on its branch. Returns the exit code. */
export async function retryCommand(deps: ClusterDeps, target: string): Promise<number> {
  const ref = parseTaskId(target);
  if (!ref) {
    deps.output.err(`"${target}" is not a task: write it as owner/repo#number, e.g. octo/hello#12.`);
    return 2;
  }
  const taskId = formatTaskId(ref);
  const queues = new TaskQueues({ connection: deps.redis, prefix: deps.prefix });
  const events = new EventQueue({ connection: deps.redis, prefix: deps.prefix });
  try {
    const outcome = await retryTask(
      { store: new TaskStore(deps.redis, deps.prefix), queues, events, registry: new AgentRegistry(deps.redis, deps.prefix) },
      taskId,
      "ccc retry",
    );
    if (deps.json) deps.output.out(JSON.stringify({ taskId, ...outcome }));
    else if (outcome.status === "queued") deps.output.out(`Queued ${taskId} again (run ${outcome.run}, ${outcome.queue}).`);
    else if (outcome.status === "not-found") deps.output.err(`${taskId} has never been a task.`);
    else if (outcome.status === "already-live") deps.output.err(`${taskId} is ${outcome.state}; cancel it first or wait for it to finish.`);
    else deps.output.err(`${taskId} cannot be retried from here: ${outcome.message}.`);
    return outcome.status === "queued" ? 0 : 1;
  } finally {
    await Promise.all([queues.close(), events.close()]);
  }
}
