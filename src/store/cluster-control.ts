import type { RedisClient } from "../shared/redis-client.js";
import type { z } from "zod";
import { controlChannel, controlStateSchema, encodeControl } from "./control-channel.js";
import { parseStored } from "../shared/parse-stored.js";

/**
 * The whole cluster's switch. `paused`: agents finish what they run and take nothing new.
 * `stopped` (emergency): agents also abort running Claude processes and put those tasks
 * back on their queues. Only an explicit resume lifts either.
 */
export type ClusterMode = ControlState["mode"];

/** The mode, who set it and when; the one schema is the control channel's. */
export type ControlState = z.infer<typeof controlStateSchema>;

/** Kept in Redis so that an agent or app started later obeys it; pushed to agents on change. */
export class ClusterControl {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
    private readonly now: () => number = Date.now,
  ) {}

  private get key(): string {
    return `${this.prefix}:control:state`;
  }

  async get(): Promise<ControlState> {
    const raw = await this.redis.get(this.key);
    return raw ? parseStored(controlStateSchema, raw, this.key) : { mode: "running", at: 0 };
  }

  pause(by: string): Promise<ControlState> {
    return this.set("paused", by);
  }

  resume(by: string): Promise<ControlState> {
    return this.set("running", by);
  }

  stop(by: string): Promise<ControlState> {
    return this.set("stopped", by);
  }

  private async set(mode: ClusterMode, by: string): Promise<ControlState> {
    const state: ControlState = { mode, by, at: this.now() };
    await this.redis
      .multi()
      .set(this.key, JSON.stringify(state))
      .publish(controlChannel(this.prefix), encodeControl({ type: "mode", state }))
      .exec();
    return state;
  }
}
