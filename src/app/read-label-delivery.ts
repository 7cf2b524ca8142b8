import { permissionKey } from "../github/permission.js";
import { repoConfigKey } from "../github/load-repo-config.js";
import { deliveryKey } from "../queue/delivery-dedupe.js";
import { luaScript, runLuaScript } from "../queue/lua-script.js";
import { readRetention } from "../queue/retention.js";
import type { TaskRecord } from "../queue/task-record.js";
import { formatTaskId } from "../shared/task-id.js";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";

/** What a label delivery needs from Redis before it decides anything, read in one round trip. */
export interface LabelDeliveryState {
  /** The repository's cached config text (null: not cached), for `loadRepoConfig`'s `cached`. */
  configText: string | null;
  /** Whether this delivery id is new (it is marked seen in the same trip). */
  first: boolean;
  /** The labeller's cached role (null: not cached), for `repoRole`'s `cached`. */
  cachedRole: string | null;
  /**
   * The issue's task record as it was (decoded on demand: only a trigger looks at it). The
   * claim decides atomically later; this only answers early.
   */
  existing: () => TaskRecord | undefined;
}

// KEYS[1] repo-config cache, KEYS[2] delivery mark, KEYS[3] permission cache, KEYS[4] task hash;
// ARGV[1] the dedupe window in ms. Lua's false comes back as a null.
const READ = luaScript(`
local mark = redis.call('SET', KEYS[2], '1', 'PX', ARGV[1], 'NX')
return {redis.call('GET', KEYS[1]), mark and 1 or 0, redis.call('GET', KEYS[3]), redis.call('HGETALL', KEYS[4])}
`);

/**
 * The config cache, the delivery mark, the permission cache and the task record in one
 * script: four round trips become one, and no pipeline object is built (ioredis copies every
 * script BullMQ defined on the connection into each one). Nothing here asks GitHub; a cache
 * miss is filled by the caller as before. A label that is no trigger pays a few small replies.
 */
export async function readLabelDelivery(deps: IntakeDeps, ctx: IssueContext): Promise<LabelDeliveryState> {
  const taskId = formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
  const [config, first, role, fields] = (await runLuaScript(deps.redis, READ, 4, [
    repoConfigKey(deps.prefix, ctx.owner, ctx.repo),
    deliveryKey(deps.prefix, ctx.deliveryId),
    permissionKey(deps.prefix, ctx.owner, ctx.repo, ctx.actor),
    deps.store.key(taskId),
    String(readRetention().dedupeMs),
  ])) as [string | null, number, string | null, string[]];
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  return {
    configText: config,
    first: first === 1,
    cachedRole: role,
    existing: () => deps.store.decode(taskId, record),
  };
}
