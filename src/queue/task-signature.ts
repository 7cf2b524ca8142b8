import { createHmac, timingSafeEqual } from "node:crypto";
import type { TaskSecrets } from "../config/task-secret.js";
import { taskDataSchema, type TaskData } from "./task-data.js";

/** Job data as it sits on a queue: the task's fields and the app's signature over them. */
export type SignedTaskData = TaskData & { signature: string };

export type TaskRefusal = "unsigned" | "not a task" | "signature does not match" | "job id does not match the task";

export type TaskVerdict = { ok: true; task: TaskData } | { ok: false; reason: TaskRefusal };

/** What of a BullMQ job the check reads. */
export interface TaskJob {
  id?: string | undefined;
  queueName: string;
  data: unknown;
}

const VERSION = "v1";

/**
 * JSON with the keys of every object sorted, so the same task gives the same bytes whoever
 * serialises it and in whatever order its fields were written.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/**
 * The MAC covers the queue and the whole task, taskId and run (the job id) included, except its
 * `trace`: ids that only place the agent's spans, which a forger could do nothing with but
 * mislabel a trace. Left out, an agent that predates the field (it drops it when it parses the
 * job) still finds the signature good: turning tracing on needs no agent upgraded first.
 */
function mac(secret: string, queue: string, task: TaskData): Buffer {
  const { trace: _trace, ...signed } = task;
  return createHmac("sha256", secret)
    .update(`ccc-task-${VERSION}\n${queue}\n${canonicalJson(signed)}`)
    .digest();
}

/**
 * The job data for `task` on `queue`: the fields the schema knows, and their signature. Fields
 * an agent adds to the job's data later (its remote-wait bookkeeping) are outside the MAC.
 */
export function signTask(task: TaskData, queue: string, secrets: TaskSecrets): SignedTaskData {
  const clean = taskDataSchema.parse(task);
  return { ...clean, signature: `${VERSION}:${mac(secrets[0], queue, clean).toString("hex")}` };
}

/** Whether the app signed this job, unchanged, for this queue and this job id. */
export function verifyTaskJob(job: TaskJob, secrets: TaskSecrets): TaskVerdict {
  const signature = (job.data as { signature?: unknown } | null | undefined)?.signature;
  if (typeof signature !== "string" || signature === "") return { ok: false, reason: "unsigned" };
  const parsed = taskDataSchema.safeParse(job.data);
  if (!parsed.success) return { ok: false, reason: "not a task" };
  const given = Buffer.from(signature.startsWith(`${VERSION}:`) ? signature.slice(VERSION.length + 1) : "", "hex");
  const matches = secrets.some((secret) => {
    const expected = mac(secret, job.queueName, parsed.data);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) return { ok: false, reason: "signature does not match" };
  // Signed for another run of the task: its data was copied under this job id (taskJobId's form).
  if (job.id !== `${parsed.data.taskId}@${parsed.data.run}`) return { ok: false, reason: "job id does not match the task" };
  return { ok: true, task: parsed.data };
}

/** What the issue says about a job refused by `by`; nothing in it comes from the job. */
export function refusalMessage(reason: TaskRefusal, by: string): string {
  const why =
    reason === "unsigned"
      ? "its queue job carries no signature, so this cluster's app did not queue it (or an app older than signed tasks did)"
      : reason === "signature does not match"
        ? "its queue job's signature does not match: the job was changed in Redis after the app queued it, or the app and the agents have different CCC_TASK_SECRET values"
        : reason === "job id does not match the task"
          ? "its queue job holds another run's signed data, copied in Redis"
          : "its queue job is not a task";
  return `refused by ${by}: ${why}. Nothing ran. Check who can write to the cluster's Redis (docs/operations.md), then comment \`/claude retry\`.`;
}
