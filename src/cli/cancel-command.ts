import { cancelTask } from "../control/cancel-task.js";
import { EventQueue } from "../queue/event-queue.js";
import { TaskQueues } from "../queue/task-queues.js";
import { TaskStore } from "../queue/task-store.js";
import { formatTaskId, type IssueRef } from "../shared/task-id.js";
import type { ClusterDeps } from "./cluster-commands.js";
import { ExitCode } from "./exit-code.js";

/** `ccc cancel owner/repo#n`. An issue with no queued or running task is a failure: nothing was cancelled. */
export async function cancelCommand(deps: ClusterDeps, ref: IssueRef): Promise<ExitCode> {
  const taskId = formatTaskId(ref);
  const queues = new TaskQueues({ connection: deps.redis, prefix: deps.prefix });
  const events = new EventQueue({ connection: deps.redis, prefix: deps.prefix });
  try {
    const outcome = await cancelTask(
      { redis: deps.redis, prefix: deps.prefix, store: new TaskStore(deps.redis, deps.prefix), queues, events },
      taskId,
      "ccc cancel",
    );
    if (deps.json) deps.output.out(JSON.stringify({ taskId, outcome }));
    else deps.output.out(outcome === "cancelled" ? `Cancelled ${taskId}.` : `${taskId} has no queued or running task.`);
    return outcome === "cancelled" ? ExitCode.ok : ExitCode.failed;
  } finally {
    await Promise.all([queues.close(), events.close()]);
  }
}
