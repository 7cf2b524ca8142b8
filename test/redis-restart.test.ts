import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import type { TaskData } from "../src/queue/task-data.js";
import { freePort } from "./helpers/app-server.js";
import { startAgentProcess, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { createOrigin, listBranches, type Origin } from "./helpers/git-origin.js";
import { closeIntakeDeps, intakeDeps, pendingEvents } from "./helpers/intake.js";
import { randomPrefix } from "./helpers/redis.js";
import { startRedis, stopRedis } from "./helpers/redis-server.js";
import { enqueueDirect } from "./helpers/tasks.js";

describe("Redis restarting under load", () => {
  let dir: string;
  let port: number;
  let server: ChildProcess;
  let redis: Redis;
  let deps: IntakeDeps;
  let origin: Origin;
  const prefix = randomPrefix();
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-redis-aof-"));
    port = await freePort();
    server = await startRedis(port, dir);
    redis = new Redis({ port, maxRetriesPerRequest: null });
    deps = intakeDeps(redis, prefix);
    origin = await createOrigin();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await closeIntakeDeps(deps);
    redis.disconnect();
    await stopRedis(server);
    await origin.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("loses no task: agents reconnect by themselves and every task is pushed", async () => {
    const url = `redis://127.0.0.1:${port}`;
    const env = { REDIS_URL: url, FAKE_CLAUDE_DELAY_MS: "1500" };
    agents.push(await startAgentProcess({ name: "r-1", prefix, redis, env }));
    agents.push(await startAgentProcess({ name: "r-2", prefix, redis, env }));
    const tasks: TaskData[] = [];
    for (let n = 81; n <= 86; n++) tasks.push(await enqueueDirect(deps, { number: n, cloneUrl: origin.url }));
    await waitFor("work to be under way", async () => (await Promise.all(tasks.map((t) => deps.store.get(t.taskId)))).some((r) => r?.state === "running"));

    await stopRedis(server);
    await new Promise((r) => setTimeout(r, 1_000));
    server = await startRedis(port, dir);

    await waitFor(
      "every task to be pushed",
      async () => (await pendingEvents(redis, prefix)).filter((e) => e.type === "pushed").length >= tasks.length,
      60_000,
    );
    const branches = await listBranches(origin.dir);
    for (const task of tasks) expect(branches).toContain(task.branch);
    for (const agent of agents) expect(agent.child.exitCode).toBeNull();
  }, 90_000);
});
