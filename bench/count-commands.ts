import type { Redis } from "ioredis";

export interface CommandCount {
  total: number;
  byName: Map<string, number>;
}

/**
 * Counts the commands one ioredis connection sends (round trips, not the calls inside Lua
 * scripts) until `stop()`, which restores the connection as it was.
 */
export function countCommands(redis: Redis): { stop(): CommandCount } {
  const byName = new Map<string, number>();
  const original = redis.sendCommand;
  redis.sendCommand = function (this: Redis, ...args: Parameters<Redis["sendCommand"]>) {
    const name = args[0].name.toLowerCase();
    byName.set(name, (byName.get(name) ?? 0) + 1);
    return original.apply(this, args);
  };
  return {
    stop() {
      redis.sendCommand = original;
      return { total: [...byName.values()].reduce((s, n) => s + n, 0), byName };
    },
  };
}
