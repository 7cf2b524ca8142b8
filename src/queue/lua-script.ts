import { createHash } from "node:crypto";
import type { RedisClient } from "../shared/redis-client.js";

/** A Lua script sent by its SHA1 once Redis knows it, so a call does not carry the script's text. */
export interface LuaScript {
  text: string;
  sha: string;
}

export function luaScript(text: string): LuaScript {
  return { text, sha: createHash("sha1").update(text).digest("hex") };
}

/**
 * Runs `script` by `EVALSHA`; the first call on a Redis that does not hold it yet (a new or
 * restarted server, a failover) gets `NOSCRIPT` and sends the text once with `EVAL`, which
 * loads it. Both run the same script atomically, so a retry never applies it twice.
 */
export async function runLuaScript(redis: RedisClient, script: LuaScript, numKeys: number, args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, numKeys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return redis.eval(script.text, numKeys, ...args);
  }
}
