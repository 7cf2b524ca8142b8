import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { ago } from "../shared/ago.js";
import { UserFacingError } from "../shared/user-facing-error.js";

/** Who holds a name: written once per process, so a renewal compares the whole value. */
const holderSchema = z.object({ id: z.string(), host: z.string(), pid: z.number(), ttlMs: z.number() });
export type NameHolder = z.infer<typeof holderSchema>;

/** Takes the name when it is free, keeps it when it is ours: 1; another process holds it: 0. */
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/** Lets the name go, only if it is still ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** `ccc agent --name pc-2` while another live process runs as pc-2. Exit code 1: the flags are fine, the cluster refuses them now. */
export class AgentNameTakenError extends UserFacingError {
  override readonly name = "AgentNameTakenError";
  declare readonly code: "agent-name-taken";
  constructor(name: string, holder: NameHolder | undefined, seenMsAgo: number) {
    const where = holder ? `${holder.host} (pid ${holder.pid}, seen ${ago(seenMsAgo)})` : "another machine";
    super(`an agent named ${name} is already running on ${where}; pick another --name or stop it`, { code: "agent-name-taken" });
  }
}

export interface NameClaimOptions {
  redis: RedisClient;
  prefix: string;
  name: string;
  /** How long the name stays taken after the last renewal: the heartbeat TTL, so a crashed agent's name is free when it leaves the registry. */
  ttlMs: number;
  /** @defaultValue this machine's host name */
  host?: string;
  /** @defaultValue process.pid */
  pid?: number;
}

/**
 * One live process per agent name, cluster-wide: `<prefix>:agent-name:<name>` holds the process
 * that has it, taken and renewed atomically (two agents starting at once cannot both win) and
 * expiring `ttlMs` after its holder's last heartbeat.
 */
export class NameClaim {
  private readonly key: string;
  private readonly value: string;
  private released = false;

  constructor(private readonly options: NameClaimOptions) {
    this.key = `${options.prefix}:agent-name:${options.name}`;
    const holder: NameHolder = { id: randomUUID(), host: options.host ?? hostname(), pid: options.pid ?? process.pid, ttlMs: options.ttlMs };
    this.value = JSON.stringify(holder);
  }

  /** Takes the name or throws AgentNameTakenError naming the process that has it. */
  async claim(): Promise<void> {
    this.released = false;
    // A holder that expires between the refusal and the read is gone: try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.take()) return;
      const [[, raw], [, pttl]] = (await this.options.redis.multi().get(this.key).pttl(this.key).exec()) as [[null, string | null], [null, number]];
      if (raw === null) continue;
      const holder = holderSchema.safeParse(safeJson(raw));
      const seenMsAgo = holder.success && pttl > 0 ? holder.data.ttlMs - pttl : 0;
      throw new AgentNameTakenError(this.options.name, holder.success ? holder.data : undefined, seenMsAgo);
    }
    throw new AgentNameTakenError(this.options.name, undefined, 0);
  }

  /** With each heartbeat: false when another process has taken the name (this one was presumed dead past the TTL). */
  async renew(): Promise<boolean> {
    // A heartbeat late in a clean stop must not take the name back.
    return this.released || this.take();
  }

  private async take(): Promise<boolean> {
    return (await this.options.redis.eval(CLAIM, 1, this.key, this.value, String(this.options.ttlMs))) === 1;
  }

  /** At a clean stop, so the name is free at once. */
  async release(): Promise<void> {
    this.released = true;
    await this.options.redis.eval(RELEASE, 1, this.key, this.value);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
