import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountPauses } from "../src/agent/account-pause.js";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { startAgentProcess, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { createOrigin, listBranches, type Origin } from "./helpers/git-origin.js";
import { closeIntakeDeps, intakeDeps, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { enqueueDirect } from "./helpers/tasks.js";

describe("a Claude usage limit", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let origin: Origin;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    redis = connectRedis();
    deps = intakeDeps(redis, prefix);
    origin = await createOrigin();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await closeIntakeDeps(deps);
    await origin.cleanup();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("pauses every agent on that account, returns the task unspent, and an agent on another account finishes it", async () => {
    const reset = Math.floor(Date.now() / 1000) + 3600;
    const limited = { FAKE_CLAUDE_SCENARIO: "usage-limit", FAKE_CLAUDE_RESET: String(reset) };
    agents.push(await startAgentProcess({ name: "team-a-1", prefix, redis, extraArgs: ["--account", "team-a"], env: limited }));
    agents.push(await startAgentProcess({ name: "team-a-2", prefix, redis, extraArgs: ["--account", "team-a"], env: limited }));
    const data = await enqueueDirect(deps, { number: 31, cloneUrl: origin.url });

    const pause = await waitFor("the account pause", () => new AccountPauses(redis, prefix).get("team-a"));
    expect(pause.until).toBe(reset * 1000);
    await waitFor("both team-a agents to show usage-limit", async () => {
      const states = (await deps.registry.list()).filter((a) => a.account === "team-a").map((a) => a.state);
      return states.length === 2 && states.every((s) => s === "usage-limit");
    });
    const record = await deps.store.get(data.taskId);
    expect(record?.state).toBe("waiting");
    expect(record?.waitingFor).toContain(`the usage limit to reset at ${new Date(reset * 1000).toISOString()}`);
    expect(record?.waitingFor).toContain("account team-a");
    const [job] = await waitingJobs(redis, prefix, "tasks-general");
    expect(job?.attemptsMade).toBe(0);

    agents.push(await startAgentProcess({ name: "team-b-1", prefix, redis, extraArgs: ["--account", "team-b"] }));
    await waitFor("the other account's agent to push", async () => (await pendingEvents(redis, prefix)).some((e) => e.type === "pushed"), 30_000);
    expect(await listBranches(origin.dir)).toContain(data.branch);
    expect((await deps.store.get(data.taskId))?.agent).toBe("team-b-1");
    // The limited agents stayed out of it.
    for (const agent of await deps.registry.list()) if (agent.account === "team-a") expect(agent.state).toBe("usage-limit");
  }, 60_000);
});
