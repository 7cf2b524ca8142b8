import type { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import type { IntakeDeps } from "../../src/app/intake-deps.js";
import { startAgentProcess, type AgentProcess } from "./agent-process.js";
import { createOrigin, type Origin } from "./git-origin.js";
import { closeIntakeDeps, intakeDeps } from "./intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./redis.js";

/** What the agent-side integration tests share: Redis under a private prefix, a git origin, agents. */
export interface Testbed {
  redis: Redis;
  prefix: string;
  deps: IntakeDeps;
  origin: Origin;
  /** Agents still running; stopped after the file's tests. */
  agents: AgentProcess[];
  startAgent(options: Omit<Parameters<typeof startAgentProcess>[0], "prefix" | "redis">): Promise<AgentProcess>;
  /** Stops every agent started so far, so the next test starts from an empty cluster. */
  stopAgents(): Promise<void>;
}

/** Sets the testbed up before the file's tests and tears it down after, keys and agents included. */
export function useTestbed(options: { deps?: (redis: Redis, prefix: string) => IntakeDeps } = {}): Testbed {
  const bed = { agents: [] as AgentProcess[], prefix: randomPrefix() } as Testbed;
  bed.startAgent = async (agent) => {
    const started = await startAgentProcess({ ...agent, prefix: bed.prefix, redis: bed.redis });
    bed.agents.push(started);
    return started;
  };
  bed.stopAgents = async () => {
    await Promise.all(bed.agents.splice(0).map((a) => a.stop()));
  };
  beforeAll(async () => {
    bed.redis = connectRedis();
    bed.deps = (options.deps ?? intakeDeps)(bed.redis, bed.prefix);
    bed.origin = await createOrigin();
  });
  afterAll(async () => {
    await bed.stopAgents();
    await closeIntakeDeps(bed.deps);
    await bed.origin.cleanup();
    await deletePrefix(bed.redis, bed.prefix);
    await bed.redis.quit();
  });
  return bed;
}
