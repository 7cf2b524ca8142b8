import type { Attributes } from "@opentelemetry/api";
import type { TaskData } from "./task-data.js";

/** What a task span needs to name its task: the agent has its job data, the Action only its inputs. */
export type TaskSpanSubject = Pick<TaskData, "taskId" | "run" | "specialty"> & Partial<Pick<TaskData, "priority" | "pullRequest">>;

/**
 * The attributes that name a task on a span, wherever it runs (an agent, a runner's Action):
 * ids and names only, never the text. Each runner adds its own (`ccc.agent`, `ccc.runner`).
 */
export function taskSpanAttributes(task: TaskSpanSubject): Attributes {
  return {
    "ccc.task.id": task.taskId,
    "ccc.task.run": task.run,
    "ccc.specialty": task.specialty,
    ...(task.priority ? { "ccc.priority": task.priority } : {}),
    ...(task.pullRequest ? { "ccc.pull_request": task.pullRequest.number } : {}),
  };
}
