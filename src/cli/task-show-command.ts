import type { TaskRecord } from "../queue/task-record.js";
import { TaskStore } from "../queue/task-store.js";
import { describePrCi } from "../queue/describe-pr-ci.js";
import { ago } from "../shared/ago.js";
import { formatStartTime } from "../shared/start-time.js";
import { formatTaskId, type IssueRef } from "../shared/task-id.js";
import { traceLink } from "../telemetry/trace-link.js";
import type { ClusterDeps } from "./cluster-commands.js";
import { ExitCode } from "./exit-code.js";

/**
 * `ccc tasks show owner/repo#n`: one task's record in lines a person reads, with its latest
 * run's trace (a link where `CCC_TRACE_URL` gives one). A task that does not exist is a failure.
 */
export async function taskShowCommand(deps: ClusterDeps, ref: IssueRef, traceUrl: string | undefined): Promise<ExitCode> {
  const taskId = formatTaskId(ref);
  const record = await new TaskStore(deps.redis, deps.prefix).get(taskId);
  if (!record) {
    deps.output.err(`${taskId} is not a task (or its record has expired).`);
    return ExitCode.failed;
  }
  const link = traceLink(traceUrl, record.traceId);
  if (deps.json) {
    deps.output.out(JSON.stringify({ task: { ...record, ...(link ? { traceUrl: link } : {}) } }, null, 2));
    return ExitCode.ok;
  }
  for (const [name, value] of lines(record, Date.now(), link)) deps.output.out(`${`${name}:`.padEnd(11)} ${value}`);
  return ExitCode.ok;
}

/** What `ccc tasks show` prints, in order; fields a task does not have are left out. Pure. */
export function lines(record: TaskRecord, now: number, traceUrl: string | undefined): Array<[string, string]> {
  const at = (ms: number | undefined) => (ms !== undefined ? `${new Date(ms).toISOString()} (${ago(now - ms)})` : undefined);
  const all: Array<[string, string | undefined]> = [
    ["Task", record.taskId],
    ["Title", record.title],
    [
      "State",
      record.state === "queued" && record.notBefore !== undefined && record.notBefore > now ? `scheduled ${formatStartTime(record.notBefore)}` : record.state,
    ],
    ["Run", `${record.run}${record.attempt !== undefined ? `, attempt ${record.attempt}${record.maxAttempts ? ` of ${record.maxAttempts}` : ""}` : ""}`],
    ["Specialty", `${record.specialty} (${record.priority})`],
    ["Agent", record.agent],
    ["Queued", at(record.queuedAt)],
    ["Started", at(record.startedAt)],
    ["Finished", at(record.finishedAt)],
    ["Waits", record.blockedBy ?? record.waitingFor],
    ["Failure", record.failure ? `${record.failure.kind}: ${record.failure.message}` : undefined],
    ["PR", record.prUrl ? `${record.prUrl}${record.prCi ? ` (${describePrCi(record.prCi)})` : ""}` : undefined],
    ["Cost", record.result ? `$${record.result.costUsd.toFixed(2)}, ${record.result.turns} turns` : undefined],
    ["Trace", record.traceId ? (traceUrl ?? record.traceId) : undefined],
  ];
  return all.filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== "");
}
