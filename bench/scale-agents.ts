import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Job } from "bullmq";
import type { RedisClient } from "../src/shared/redis-client.js";
import { z } from "zod";
import { Agent } from "../src/agent/agent.js";
import { agentConnectionName } from "../src/agent/agent-connection-name.js";
import { claimRun } from "../src/agent/claim-run.js";
import type { TaskEnd } from "../src/agent/process-task.js";
import type { TaskContext } from "../src/agent/task-context.js";
import type { ClaudeRunOutcome } from "../src/claude/run-claude.js";
import { agentOptionsSchema } from "../src/config/agent-options.js";
import { readRedisTopology } from "../src/config/read-redis-topology.js";
import { taskDataSchema } from "../src/queue/task-data.js";
import { connectRedis } from "../src/shared/connect-redis.js";
import { silentLogger } from "../src/shared/logger.js";

/**
 * One process of bench/scale.ts: `SCALE_COUNT` real Agents (src/agent/agent.ts, the class
 * `ccc agent` runs), each on its own Redis connection as its own process would be, with the
 * Redis settings of `ccc agent` (REDIS_URL, or whatever readRedisTopology reads). What is not
 * real is the run: the login probe answers at once, and a fetched task is claimed as the real
 * run claims it (claimRun) and finished at once as "no changes", with no worktree, git or CLI.
 * Talks to bench/scale.ts over the fork IPC channel: "ready" once every agent has started,
 * "stop" to leave the registry and exit.
 */
const envSchema = z.object({
  SCALE_PREFIX: z.string().min(1),
  SCALE_SECRET: z.string().min(32),
  SCALE_FIRST: z.coerce.number().int().min(0),
  SCALE_COUNT: z.coerce.number().int().min(1),
  SCALE_WORKDIR: z.string().min(1),
});

/** Agents started at once: each start is a dozen round trips. */
const START_BATCH = 25;

const LOGIN_OK: ClaudeRunOutcome = { ok: true, result: { summary: "OK", costUsd: 0, turns: 1, durationMs: 0 } };

/** The run, simulated: claimed as the real one claims, then over at once with nothing to push. */
async function finishAtOnce(ctx: TaskContext, job: Job, token: string | undefined): Promise<TaskEnd> {
  const data = taskDataSchema.parse(job.data);
  const claimed = await claimRun(ctx, job, token, data);
  if (!claimed) return "skipped";
  await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
  const result = { summary: "simulated by bench/scale.ts", costUsd: 0, turns: 0, durationMs: 0, commits: 0 };
  const finished = await ctx.store.update(data.taskId, { state: "no-changes", result, finishedAt: ctx.now() }, ["running"], { lease: claimed.lease });
  if (!finished) return "skipped";
  await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
  return "no-changes";
}

export function scaleAgentName(n: number): string {
  return `scale-${String(n).padStart(4, "0")}`;
}

async function main(): Promise<void> {
  const env = envSchema.parse(process.env);
  const topology = readRedisTopology(process.env);
  const agents: Array<{ agent: Agent; redis: RedisClient }> = [];
  const t0 = performance.now();
  for (let first = 0; first < env.SCALE_COUNT; first += START_BATCH) {
    const batch = Array.from({ length: Math.min(START_BATCH, env.SCALE_COUNT - first) }, async (_, i) => {
      const name = scaleAgentName(env.SCALE_FIRST + first + i);
      const workdir = join(env.SCALE_WORKDIR, name);
      await mkdir(workdir, { recursive: true });
      // Named as `ccc agent` names it.
      const redis = await connectRedis(topology, { connectionName: agentConnectionName(name), keyPrefix: env.SCALE_PREFIX });
      redis.on("error", () => {});
      const options = agentOptionsSchema.parse({ CCC_PREFIX: env.SCALE_PREFIX, LOG_LEVEL: "warn", name, workdir });
      const agent = new Agent(options, {
        redis,
        log: silentLogger,
        taskSecrets: [env.SCALE_SECRET],
        runClaude: () => Promise.resolve(LOGIN_OK),
        processTask: finishAtOnce,
      });
      await agent.start();
      return { agent, redis };
    });
    agents.push(...(await Promise.all(batch)));
  }
  process.send!({ type: "ready", agents: agents.length, startMs: performance.now() - t0 });
  // How late this process's timers and I/O callbacks run: a wake-up waits as long.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on("message", (message: { type?: string }) => {
    if (message.type === "loop-delay") {
      process.send!({ type: "loop-delay", p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 });
      delay.reset();
      return;
    }
    if (message.type !== "stop") return;
    void (async () => {
      await Promise.all(agents.map(({ agent }) => agent.stop().catch(() => {})));
      for (const { redis } of agents) redis.disconnect();
      process.send!({ type: "stopped" }, () => process.exit(0));
    })();
  });
}

if (process.send) {
  main().catch((error: Error) => {
    process.send!({ type: "error", message: error.stack ?? error.message }, () => process.exit(1));
  });
}
