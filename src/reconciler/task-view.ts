import type { RedisClient } from "../shared/redis-client.js";
import type { z } from "zod";
import { taskRecordSchema } from "../queue/task-record.js";
import type { TaskStore } from "../queue/task-store.js";
import { checkStored, decodeStoredFields } from "../shared/parse-stored.js";
import { readHashFields } from "../shared/read-hash-fields.js";

/** What the reconciler reads of every live task: enough to judge a queued or waiting one. */
const taskViewSchema = taskRecordSchema.pick({
  taskId: true,
  state: true,
  queue: true,
  owner: true,
  repo: true,
  installationId: true,
  priority: true,
  blockedBy: true,
  queuedAt: true,
  version: true,
  jobId: true,
  agent: true,
});

export type TaskView = z.infer<typeof taskViewSchema>;

const FIELDS = Object.keys(taskViewSchema.shape) as Array<keyof TaskView>;

/**
 * Those fields of each task, in one script call (readHashFields): a queued task, which is most of a backlog, is
 * judged without its comments, prompt settings or results being read. A task whose record
 * expired meanwhile is left out; running and blocked ones are read in full by the caller.
 */
export async function readTaskViews(redis: RedisClient, store: Pick<TaskStore, "key">, ids: readonly string[]): Promise<TaskView[]> {
  if (ids.length === 0) return [];
  const replies = await readHashFields(
    redis,
    ids.map((id) => store.key(id)),
    FIELDS,
  );
  return replies.flatMap((values, i) => {
    if (typeof values[FIELDS.indexOf("state")] !== "string") return [];
    const key = store.key(ids[i]!);
    const present = FIELDS.flatMap((field, f) => {
      const value: unknown = values[f];
      return typeof value === "string" ? [[field, value] as const] : [];
    });
    return [checkStored(taskViewSchema, decodeStoredFields(Object.fromEntries(present), key), key)];
  });
}
