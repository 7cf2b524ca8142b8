import type { TaskRecord } from "../queue/task-record.js";
import { TaskStore } from "../queue/task-store.js";
import { LIVE_STATES, type TaskState } from "../shared/task-state.js";
import type { ClusterDeps } from "./cluster-commands.js";
import { ago } from "../shared/ago.js";
import { ExitCode } from "./exit-code.js";
import { table } from "./output.js";
import { formatStartTime } from "../shared/start-time.js";

export interface TasksFlags {
  /** Only tasks in this state. */
  state?: TaskState;
  /** At most this many, 1 to 1000. */
  limit: number;
}

/** `ccc tasks [--state s] [--limit n]`: recent tasks, newest first. No tasks is a result, not a failure. */
export async function tasksCommand(deps: ClusterDeps, flags: TasksFlags): Promise<ExitCode> {
  const recent = await new TaskStore(deps.redis, deps.prefix).recent(flags.state ? 1000 : flags.limit);
  const tasks = recent.filter((t) => !flags.state || t.state === flags.state).slice(0, flags.limit);
  if (deps.json) {
    deps.output.out(JSON.stringify({ tasks }, null, 2));
    return ExitCode.ok;
  }
  if (tasks.length === 0) {
    deps.output.out("No tasks.");
    return ExitCode.ok;
  }
  deps.output.out(
    table(
      ["TASK", "STATE", "RUN", "SPECIALTY", "PRIORITY", "AGENT", "QUEUED", "RESULT"],
      tasks.map((t) => [t.taskId, stateOf(t), String(t.run), t.specialty, t.priority, t.agent ?? "-", ago(Date.now() - t.queuedAt), resultOf(t)]),
    ),
  );
  return ExitCode.ok;
}

/** The state, or `scheduled` with its start for a queued task whose time has not come. */
function stateOf(task: TaskRecord): string {
  return task.state === "queued" && task.notBefore !== undefined && task.notBefore > Date.now() ? `scheduled ${formatStartTime(task.notBefore)}` : task.state;
}

/** The PR, or what holds a live task up (the same words as its tracking comment), or why it failed. */
function resultOf(task: TaskRecord): string {
  if (task.prUrl) return task.prUrl;
  const live = LIVE_STATES.includes(task.state);
  const dependsOn = task.state === "blocked" && task.dependsOn ? [...task.dependsOn.open, ...task.dependsOn.unreadable].join(", ") : "";
  const why = live ? (dependsOn ? `blocked by ${dependsOn}` : (task.blockedBy ?? task.waitingFor)) : undefined;
  if (why) return `waits: ${why.slice(0, 100)}`;
  return task.failure && !live ? `${task.failure.kind}: ${task.failure.message.slice(0, 60)}` : "-";
}
