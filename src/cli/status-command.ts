import { AgentRegistry } from "../store/agent-registry.js";
import { ClusterControl, type ControlState } from "../store/cluster-control.js";
import { readJobCounts } from "../queue/read-job-counts.js";
import { taskQueueName } from "../queue/task-queue-name.js";
import { TaskStore } from "../queue/task-store.js";
import { DEFAULT_SPECIALTIES, GENERAL } from "../shared/specialty.js";
import { ago } from "../shared/ago.js";
import type { ClusterDeps } from "./cluster-commands.js";
import { ExitCode } from "./exit-code.js";
import { table } from "./output.js";

// Counts the queues from Redis without BullMQ (read-job-counts.ts): loading BullMQ was a third of
// the command's start-up.

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
  const depths = await Promise.all(
    [...specialties].map(async (s) => {
      const counts = await readJobCounts(deps.redis, deps.prefix, taskQueueName(s));
      return {
        queue: taskQueueName(s),
        waiting: counts.waiting + counts.prioritized,
        active: counts.active,
        delayed: counts.delayed,
        failed: counts.failed,
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
}
