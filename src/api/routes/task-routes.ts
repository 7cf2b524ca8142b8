import { z } from "zod";
import { cancelTask } from "../../control/cancel-task.js";
import { retryTask } from "../../control/retry-task.js";
import type { TaskRecord } from "../../queue/task-record.js";
import { formatTaskId } from "../../shared/task-id.js";
import { taskStateSchema } from "../../shared/task-state.js";
import type { ApiDeps } from "../api-deps.js";
import { HttpError } from "../http-kit.js";
import type { Route, RouteRequest } from "../http-routes.js";
import { traceLink } from "../../telemetry/trace-link.js";

const listQuery = z.object({
  /** Only tasks in this state. */
  state: taskStateSchema.optional(),
  /** Most recent first, at most this many. */
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const TASK_PATH = "/api/v1/tasks/:owner/:repo/:number";

/** Links people click: the issue, the pull request once opened, and the latest run's trace where `CCC_TRACE_URL` says. */
export function withLinks(record: TaskRecord, traceUrl?: string): TaskRecord & { issueUrl: string; traceUrl?: string } {
  const trace = traceLink(traceUrl, record.traceId);
  return { ...record, issueUrl: `https://github.com/${record.owner}/${record.repo}/issues/${record.issueNumber}`, ...(trace ? { traceUrl: trace } : {}) };
}

function taskIdOf({ params }: RouteRequest): string {
  const number = Number(params.number);
  if (!Number.isInteger(number) || number < 1) throw new HttpError(400, "invalid-task", `"${params.number}" is not an issue number`);
  return formatTaskId({ owner: params.owner!, repo: params.repo!, number });
}

function parseQuery<T extends z.ZodType>(schema: T, query: URLSearchParams): z.infer<T> {
  const parsed = schema.safeParse(Object.fromEntries(query));
  if (!parsed.success) throw new HttpError(400, "invalid-query", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return parsed.data;
}

/** Tasks: list, detail, cancel, retry, and recent errors. */
export function taskRoutes(deps: ApiDeps): Route[] {
  return [
    {
      method: "GET",
      path: "/api/v1/tasks",
      handle: async ({ query }) => {
        const { state, limit } = parseQuery(listQuery, query);
        const recent = await deps.store.recent(state ? 1_000 : limit);
        return {
          tasks: recent
            .filter((t) => !state || t.state === state)
            .slice(0, limit)
            .map((t) => withLinks(t, deps.traceUrl)),
        };
      },
    },
    {
      method: "GET",
      path: TASK_PATH,
      handle: async (request) => {
        const taskId = taskIdOf(request);
        const record = await deps.store.get(taskId);
        if (!record) throw new HttpError(404, "task-not-found", `no task for ${taskId}`);
        const job = record.jobId ? await deps.queues.queue(record.queue).getJob(record.jobId) : undefined;
        const jobState = job ? await job.getState() : undefined;
        return {
          task: withLinks(record, deps.traceUrl),
          job: job
            ? {
                id: job.id,
                queue: record.queue,
                state: jobState,
                attemptsMade: job.attemptsMade,
                failedReason: job.failedReason || undefined,
                delayUntil: job.delay ? job.timestamp + job.delay : undefined,
              }
            : null,
        };
      },
    },
    {
      method: "POST",
      path: `${TASK_PATH}/cancel`,
      handle: async (request) => {
        const taskId = taskIdOf(request);
        const outcome = await cancelTask(deps, taskId, "the control API");
        if (outcome === "not-live") throw new HttpError(409, "not-live", `${taskId} has no queued or running task to cancel`);
        return { taskId, outcome };
      },
    },
    {
      method: "POST",
      path: `${TASK_PATH}/retry`,
      handle: async (request) => {
        const taskId = taskIdOf(request);
        const outcome = await retryTask(deps, taskId, "the control API");
        if (outcome.status === "not-found") throw new HttpError(404, "task-not-found", `no task for ${taskId}`);
        if (outcome.status === "already-live")
          throw new HttpError(409, "already-live", `${taskId} is ${outcome.state}; cancel it first or wait for it to finish`);
        if (outcome.status === "no-job-data") throw new HttpError(409, "no-job-data", `${taskId} cannot be retried from here: ${outcome.message}`);
        return outcome;
      },
    },
    {
      method: "GET",
      path: "/api/v1/errors",
      handle: async ({ query }) => {
        const { limit } = parseQuery(listQuery.pick({ limit: true }), query);
        const recent = await deps.store.recent(1_000);
        const failed = recent.filter((t) => t.state === "failed" || (t.state === "waiting" && t.failure));
        failed.sort((a, b) => (b.finishedAt ?? b.queuedAt) - (a.finishedAt ?? a.queuedAt));
        return {
          errors: failed.slice(0, limit).map((t) => ({
            taskId: t.taskId,
            state: t.state,
            kind: t.failure?.kind ?? "unknown",
            message: t.failure?.message ?? "",
            agent: t.agent,
            at: t.finishedAt ?? t.queuedAt,
            issueUrl: withLinks(t).issueUrl,
          })),
        };
      },
    },
  ];
}
