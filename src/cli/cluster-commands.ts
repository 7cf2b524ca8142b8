import type { RedisClient } from "../shared/redis-client.js";
import { AgentRegistry } from "../store/agent-registry.js";
import { ClusterControl, type ControlState } from "../store/cluster-control.js";
import { cancelTask } from "../control/cancel-task.js";
import { TaskQueues, taskQueueName } from "../queue/task-queues.js";
import { TaskStore } from "../queue/task-store.js";
import { EventQueue } from "../queue/event-queue.js";
import { DEFAULT_SPECIALTIES, GENERAL } from "../shared/specialty.js";
import { formatTaskId, type IssueRef } from "../shared/task-id.js";
import { ago } from "../shared/ago.js";
import { ExitCode } from "./exit-code.js";
import { table, type Output } from "./output.js";

export interface ClusterDeps {
  redis: RedisClient;
  prefix: string;
  output: Output;
  json: boolean;
}

/** `ccc agents`: live agents from the heartbeat registry. */
export async function agentsCommand(deps: ClusterDeps): Promise<ExitCode> {
  const agents = await new AgentRegistry(deps.redis, deps.prefix).list();
  if (deps.json) deps.output.out(JSON.stringify(agents, null, 2));
  else if (agents.length === 0) deps.output.out("No live agents. Start one with `ccc agent --name <name> --specialties <a,b>`.");
  else
    deps.output.out(
      table(
        ["NAME", "STATE", "SPECIALTIES", "ACCOUNT", "TASKS", "HOST", "SEEN"],
        agents.map((a) => [a.name, a.state, [...a.specialties, GENERAL].join(","), a.account, a.tasks.join(",") || "-", a.host, ago(Date.now() - a.lastSeen)]),
      ),
    );
  return ExitCode.ok;
}

/** The cluster's switch in one line: running, or paused or stopped, by whom, since when, and what lifts it. */
export function describeControl(control: ControlState, now: number): string {
  if (control.mode === "running") return "Cluster: running";
  const by = control.by ? ` by ${control.by}` : "";
  const since = control.at > 0 ? ` ${ago(now - control.at)}` : "";
  return control.mode === "paused"
    ? `Cluster: PAUSED${by}${since}: agents finish what they run and take nothing new; \`ccc resume\` lifts it`
    : `Cluster: STOPPED (emergency stop)${by}${since}: nothing runs; \`ccc resume\` lifts it`;
}

/** `ccc status`: the cluster's switch, queue depths and the most recent tasks. */
export async function statusCommand(deps: ClusterDeps): Promise<ExitCode> {
  const registry = new AgentRegistry(deps.redis, deps.prefix);
  const [agents, control] = await Promise.all([registry.list(), new ClusterControl(deps.redis, deps.prefix).get()]);
  const specialties = new Set<string>([GENERAL, ...DEFAULT_SPECIALTIES, ...agents.flatMap((a) => a.specialties)]);
  const queues = new TaskQueues({ connection: deps.redis, prefix: deps.prefix });
  try {
    const depths = await Promise.all(
      [...specialties].map(async (s) => {
        const counts = await queues.queue(taskQueueName(s)).getJobCounts("waiting", "prioritized", "active", "delayed", "failed");
        return {
          queue: taskQueueName(s),
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
        };
      }),
    );
    const tasks = await new TaskStore(deps.redis, deps.prefix).recent(20);
    if (deps.json) {
      deps.output.out(JSON.stringify({ control, agents: agents.length, queues: depths, tasks }, null, 2));
      return ExitCode.ok;
    }
    deps.output.out(describeControl(control, Date.now()));
    deps.output.out(`Agents live: ${agents.length}\n`);
    deps.output.out(
      table(
        ["QUEUE", "WAITING", "ACTIVE", "DELAYED", "FAILED"],
        depths.map((d) => [d.queue, String(d.waiting), String(d.active), String(d.delayed), String(d.failed)]),
      ),
    );
    deps.output.out("");
    if (tasks.length === 0) deps.output.out("No tasks yet.");
    else
      deps.output.out(
        table(
          ["TASK", "STATE", "SPECIALTY", "AGENT", "QUEUED", "PR"],
          tasks.map((t) => [t.taskId, t.state, t.specialty, t.agent ?? "-", ago(Date.now() - t.queuedAt), t.prUrl ?? "-"]),
        ),
      );
    return ExitCode.ok;
  } finally {
    await queues.close();
  }
}

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
