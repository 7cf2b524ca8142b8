import type { RedisClient } from "../shared/redis-client.js";
import type { TaskStore } from "../queue/task-store.js";
import { parseStored } from "../shared/parse-stored.js";
import { readHashFields } from "../shared/read-hash-fields.js";
import { LIVE_STATES, taskStateSchema } from "../shared/task-state.js";

/** Ids of the recent-tasks index the reconciler looks at per pass. @defaultValue of ReconcilerOptions.pageSize */
export const RECONCILE_PAGE_SIZE = 2_000;

export interface LiveTaskPage {
  /** The live (blocked, queued, running, waiting) tasks among the page's ids, oldest first. */
  ids: string[];
  /** Where the next page starts: 0 once the index is done, so the next pass starts over. */
  next: number;
}

/**
 * One page of the recent-tasks index (oldest first) from `offset`: `pageSize` ids at most, one
 * state field each, and which of them are live (the caller reads their records). A pass never
 * reads more than a page, however long the backlog; an index no longer than a page is read
 * whole at every pass.
 */
export async function liveTaskPage(redis: RedisClient, store: Pick<TaskStore, "key">, prefix: string, offset: number, pageSize: number): Promise<LiveTaskPage> {
  let start = offset;
  let ids = await redis.zrange(`${prefix}:tasks`, start, start + pageSize - 1);
  // The index shrank under the cursor (expired ids dropped): start over now rather than idle a pass.
  if (ids.length === 0 && start > 0) {
    start = 0;
    ids = await redis.zrange(`${prefix}:tasks`, 0, pageSize - 1);
  }
  const next = ids.length < pageSize ? 0 : start + ids.length;
  if (ids.length === 0) return { ids: [], next };
  const states = await readHashFields(
    redis,
    ids.map((id) => store.key(id)),
    ["state"],
  );
  const live = ids.filter((id, i) => {
    const raw = states[i]?.[0];
    return typeof raw === "string" && LIVE_STATES.includes(parseStored(taskStateSchema, raw, `${store.key(id)} state`));
  });
  return { ids: live, next };
}
