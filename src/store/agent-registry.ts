import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { GENERAL } from "../shared/specialty.js";
import { parseStored } from "../shared/parse-stored.js";

/** What an agent says about itself in each heartbeat. */
export interface AgentInfo {
  name: string;
  host: string;
  /** Its process id on `host`; absent from agents older than the name claim. */
  pid?: number;
  account: string;
  specialties: string[];
  concurrency: number;
  /** `idle`, `busy`, `paused`, `session-expired`, `stopping`. */
  state: string;
  /** Task ids it is running now. */
  tasks: string[];
  startedAt: number;
  lastSeen: number;
  version: string;
  /** Epoch ms until which its Claude account is over the usage limit. */
  pausedUntil?: number;
  /** Its Claude login: `ok`, `expired` or `checking`. */
  session?: string;
  /** Its `--repos`: the owners and `owner/repo`s it takes tasks of; absent serves all. */
  repos?: string[];
  /** Its account's budget, when it holds the agent back: `tight` takes only urgent and high tasks, `spent` none. */
  budget?: { level: "tight" | "spent"; until?: number; message: string };
}

const agentInfoSchema = z.object({
  name: z.string(),
  host: z.string(),
  pid: z.number().optional(),
  account: z.string(),
  specialties: z.array(z.string()),
  concurrency: z.number(),
  state: z.string(),
  tasks: z.array(z.string()),
  startedAt: z.number(),
  lastSeen: z.number(),
  version: z.string(),
  pausedUntil: z.number().optional(),
  session: z.string().optional(),
  repos: z.array(z.string()).optional(),
  budget: z.object({ level: z.enum(["tight", "spent"]), until: z.number().optional(), message: z.string() }).optional(),
}) satisfies z.ZodType<AgentInfo>;

/**
 * Live agents, each a key that expires unless its agent keeps beating. The router reads it
 * to avoid queueing work for a specialty nobody serves.
 */
export class AgentRegistry {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
  ) {}

  private key(name: string): string {
    return `${this.prefix}:agent:${name}`;
  }

  async heartbeat(info: AgentInfo, ttlSeconds: number): Promise<void> {
    // A pipeline, not MULTI: two writes that need no atomicity, in one round trip and two commands instead of four.
    await this.redis.pipeline().set(this.key(info.name), JSON.stringify(info), "EX", ttlSeconds).zadd(`${this.prefix}:agents`, info.lastSeen, info.name).exec();
  }

  async remove(name: string): Promise<void> {
    await this.redis.multi().del(this.key(name)).zrem(`${this.prefix}:agents`, name).exec();
  }

  /** Agents whose heartbeat has not expired, by name. */
  async list(): Promise<AgentInfo[]> {
    const names = await this.redis.zrange(`${this.prefix}:agents`, 0, -1);
    if (names.length === 0) return [];
    const values = await this.redis.mget(names.map((n) => this.key(n)));
    const gone = names.filter((_, i) => values[i] === null);
    if (gone.length > 0) await this.redis.zrem(`${this.prefix}:agents`, ...gone);
    return names.flatMap((name, i) => {
      const raw = values[i];
      return raw === null || raw === undefined ? [] : [parseStored(agentInfoSchema, raw, this.key(name))];
    });
  }

  /** Specialties some live agent serves; `general` only when some agent is alive. */
  async liveSpecialties(): Promise<Set<string>> {
    const live = new Set<string>();
    for (const agent of await this.list()) {
      live.add(GENERAL);
      for (const s of agent.specialties) live.add(s);
    }
    return live;
  }
}
