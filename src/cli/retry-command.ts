import { AgentRegistry } from "../store/agent-registry.js";
import { retryTask } from "../control/retry-task.js";
import { TaskQueues } from "../queue/task-queues.js";
import type { TaskSecrets } from "../config/task-secret.js";
import { TaskStore } from "../queue/task-store.js";
import { EventQueue } from "../queue/event-queue.js";
import { formatTaskId, type IssueRef } from "../shared/task-id.js";
import type { ClusterDeps } from "./cluster-commands.js";
import { ExitCode } from "./exit-code.js";

/** `ccc retry owner/repo#n`: runs a finished task again on its branch. Anything but queueing it is a failure. */
export async function retryCommand(deps: ClusterDeps, ref: IssueRef, secrets: TaskSecrets): Promise<ExitCode> {
  const taskId = formatTaskId(ref);
  const store = new TaskStore(deps.redis, deps.prefix);
  const queues = new TaskQueues({ connection: deps.redis, prefix: deps.prefix, secrets });
  const events = new EventQueue({ connection: deps.redis, prefix: deps.prefix });
  try {
    const outcome = await retryTask({ store, queues, events, registry: new AgentRegistry(deps.redis, deps.prefix) }, taskId, "ccc retry");
    if (deps.json) deps.output.out(JSON.stringify({ taskId, ...outcome }));
    else if (outcome.status === "queued") deps.output.out(`Queued ${taskId} again (run ${outcome.run}, ${outcome.queue}).`);
    else if (outcome.status === "not-found") deps.output.err(`${taskId} has never been a task.`);
    else if (outcome.status === "already-live") deps.output.err(`${taskId} is ${outcome.state}; cancel it first or wait for it to finish.`);
    else deps.output.err(`${taskId} cannot be retried from here: ${outcome.message}.`);
    return outcome.status === "queued" ? ExitCode.ok : ExitCode.failed;
  } finally {
    await Promise.all([queues.close(), events.close()]);
  }
}
