import type { RedisClient } from "./redis-client.js";

/** KEYS: hashes; ARGV: fields. Each hash's values in ARGV's order, nil where a field or the hash is missing. */
const READ_FIELDS = `local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HMGET', key, unpack(ARGV)) end
return out`;

/** Hashes per script call: Redis runs a script without interleaving, so each call stays well under a millisecond. */
const KEYS_PER_CALL = 500;

/**
 * `fields` of each hash in `keys`, in the order given: `values[i][f]` is field f of keys[i], null
 * where it is missing. One script call per 500 hashes rather than one HMGET each: the periodic
 * passes read thousands of records, and ioredis builds about 2 KB of short-lived objects per
 * command, garbage that V8 partly promotes and keeps as heap (the app's RSS grew with it). The
 * keys of one call must hash to one slot on a Redis Cluster, as a prefix's keys already do for
 * the task store's scripts.
 */
export async function readHashFields(redis: RedisClient, keys: readonly string[], fields: readonly string[]): Promise<Array<Array<string | null>>> {
  const values: Array<Array<string | null>> = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_CALL) {
    const chunk = keys.slice(i, i + KEYS_PER_CALL);
    const replies = (await redis.eval(READ_FIELDS, chunk.length, ...chunk, ...fields)) as unknown[];
    chunk.forEach((_, k) => {
      const reply = replies[k];
      values.push(fields.map((_, f) => (Array.isArray(reply) && typeof reply[f] === "string" ? (reply[f] as string) : null)));
    });
  }
  return values;
}
