import type { Redis } from "ioredis";

export interface CommandCount {
  total: number;
  byName: Map<string, number>;
  /** Writes to the connection's socket: one per command sent alone, one per pipeline or MULTI. */
  writes: number;
}

/**
 * Counts the commands one ioredis connection sends (not the calls inside Lua scripts) and its
 * socket writes (round trips: a pipeline's commands go out in one) until `stop()`, which
 * restores the connection as it was.
 */
export function countCommands(redis: Redis): { stop(): CommandCount } {
  const byName = new Map<string, number>();
  const original = redis.sendCommand;
  const socket = (redis as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
  const write = socket.write;
  let writes = 0;
  socket.write = function (this: unknown, ...args: unknown[]) {
    writes++;
    return write.apply(this, args);
  };
  redis.sendCommand = function (this: Redis, ...args: Parameters<Redis["sendCommand"]>) {
    const name = args[0].name.toLowerCase();
    byName.set(name, (byName.get(name) ?? 0) + 1);
    return original.apply(this, args);
  };
  return {
    stop() {
      redis.sendCommand = original;
      socket.write = write;
      return { total: [...byName.values()].reduce((s, n) => s + n, 0), byName, writes };
    },
  };
}
