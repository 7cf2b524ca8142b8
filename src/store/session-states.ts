import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { parseStored } from "../shared/parse-stored.js";

/** An agent's Claude login as the cluster sees it. */
export interface SessionState {
  state: "ok" | "expired" | "checking";
  /** What the CLI said when the login failed. */
  message?: string;
  at: number;
}

const sessionStateSchema = z.object({
  state: z.enum(["ok", "expired", "checking"]),
  /** What the CLI said when the login failed. */
  message: z.string().optional(),
  at: z.number(),
}) satisfies z.ZodType<SessionState>;

/** Kept in Redis so `ccc resume --agent`, the dashboard and the app can see it. */
export class SessionStates {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
  ) {}

  private key(agent: string): string {
    return `${this.prefix}:agent-session:${agent}`;
  }

  async get(agent: string): Promise<SessionState | undefined> {
    const raw = await this.redis.get(this.key(agent));
    return raw ? parseStored(sessionStateSchema, raw, this.key(agent)) : undefined;
  }

  async set(agent: string, state: SessionState): Promise<void> {
    await this.redis.set(this.key(agent), JSON.stringify(state), "EX", 30 * 86_400);
  }
}
