import { TaskStore } from "../queue/task-store.js";
import { taskStateSchema } from "../shared/task-state.js";
import type { ClusterDeps } from "./cluster-commands.js";
import { ago } from "./ago.js";
import { table } from "./output.js";

/** `ccc tasks [--state s] [--limit n]`: recent tasks, newest first. Returns the exit code. */
export async function tasksCommand(deps: ClusterDeps, flags: { state?: string; limit?: string }): Promise<number> {
  const state = flags.state === undefined ? undefined : taskStateSchema.safeParse(flags.state);
  if (state && !state.success) {
    deps.output.err(`--state must be one of ${taskStateSchema.options.join(", ")}`);
    return 2;
  }
  const limit = Number(flags.limit ?? 30);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    deps.output.err("--limit must be a whole number from 1 to 1000");
    return 2;
  }
  const recent = await new TaskStore(deps.redis, deps.prefix).recent(state ? 1000 : limit);
  const tasks = recent.filter((t) => !state || t.state === state.data).slice(0, limit);
  if (deps.json) {
    deps.output.out(JSON.stringify({ tasks }, null, 2));
    return 0;
  }
  if (tasks.length === 0) {
    deps.output.out("No tasks.");
    return 0;
  }
  deps.output.out(
    table(
      ["TASK", "STATE", "RUN", "SPECIALTY", "PRIORITY", "AGENT", "QUEUED", "RESULT"],
      tasks.map((t) => [t.taskId, t.state, String(t.run), t.specialty, t.priority, t.agent ?? "-", ago(Date.now() - t.queuedAt), t.prUrl ?? (t.failure ? `${t.failure.kind}: ${t.failure.message.slice(0, 60)}` : "-")]),
    ),
  );
  return 0;
}
