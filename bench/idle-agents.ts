import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import type { Agent as AgentClass } from "../src/agent/agent.js";
import { agentConnectionName } from "../src/agent/agent-connection-name.js";
import { agentOptionsSchema } from "../src/config/agent-options.js";
import { claimTask } from "../src/queue/task-factory.js";
import { taskJobId, taskQueueName, TaskQueues } from "../src/queue/task-queues.js";
import { TaskStore } from "../src/queue/task-store.js";
import { connectRedis } from "../src/shared/connect-redis.js";
import { GENERAL } from "../src/shared/specialty.js";
import { formatTaskId } from "../src/shared/task-id.js";
import { createOrigin } from "../test/helpers/git-origin.js";
import { silentLogger } from "../src/shared/logger.js";
import { syncMirror } from "../src/workspace/mirror.js";
import { workspacePaths } from "../src/workspace/paths.js";
import { startBenchRedis } from "./bench-redis.js";
import { describeMachine } from "./machine.js";
import { ms, summarise, verdict } from "./stats.js";

export interface IdleAgentsOptions {
  /** Idle agents measured together. @defaultValue 100 */
  agents?: number;
  /** Measuring window once they have settled: past the longest idle timer (60 s), so every timer shows. @defaultValue 61000 */
  windowMs?: number;
  /** Tasks timed with one agent, then with all of them. @defaultValue 10 */
  samples?: number;
}

const FAKE_CLAUDE = fileURLToPath(new URL("../test/fake-claude/fake-claude.mjs", import.meta.url));
const BENCH_CLIENT = "ccc-bench-probe";
const BENCH_IDENTITY = { name: "bench", email: "bench@example.invalid" };
const SETTLE_MS = 5_000;
/** Tasks queued at once before the window; more would only measure the machine's cores. */
const BURST = 20;
const TASK_TIMEOUT_MS = 60_000;
const MAX_COMMANDS_PER_S = 1;
const MAX_CONNECTIONS = 3;
const MAX_SLOWDOWN = 1.5;

export interface ServerCounts {
  clients: number;
  /** Commands by name, Lua's inner calls included (INFO commandstats). */
  byName: Map<string, number>;
  /** Commands the clients sent (INFO stats total_commands_processed). */
  processed: number;
}

/**
 * What idle agents cost Redis, and whether many of them slow dispatch: N real Agents (the class
 * `ccc agent` runs) in this process, each on its own connection as its own process would be,
 * against a private redis-server. Connections and commands are the server's own counts, less
 * the bench's probe; then enqueue → claude started with one agent and with all N.
 */
export async function benchIdleAgents(options: IdleAgentsOptions = {}): Promise<{ name: string; lines: string[] }> {
  const count = options.agents ?? 100;
  const windowMs = options.windowMs ?? 61_000;
  const samples = options.samples ?? 10;
  const { Agent } = await import("../src/agent/agent.js");
  const prefix = `ccc-bench-${randomBytes(4).toString("hex")}`;
  const tmp = await mkdtemp(join(tmpdir(), "ccc-bench-idle-"));
  const benchRedis = await startBenchRedis();
  const origin = await createOrigin();
  const probe = await connectRedis(benchRedis.url);
  await probe.client("SETNAME", BENCH_CLIENT);
  const taskSecrets: [string] = [randomBytes(32).toString("hex")];
  const store = new TaskStore(probe, prefix);
  const queues = new TaskQueues({ connection: probe, prefix, secrets: taskSecrets });
  const jobs = new Queue(taskQueueName(GENERAL), { connection: probe, prefix });
  const saved = { scenario: process.env.FAKE_CLAUDE_SCENARIO, pass: process.env.CCC_CLAUDE_ENV_PASS };
  process.env.FAKE_CLAUDE_SCENARIO = "no-changes";
  process.env.CCC_CLAUDE_ENV_PASS = "FAKE_CLAUDE_*";

  // "claude started" (logged by the runner once the CLI's process exists) and "worktree ready", by task.
  const claudeStarted = new Map<string, number>();
  const worktreeMs = new Map<string, number>();
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.includes("claude started") && !line.includes("worktree ready")) continue;
        const entry = JSON.parse(line) as { msg: string; taskId?: string; time: number; mirrorMs?: number; worktreeMs?: number };
        if (!entry.taskId) continue;
        if (entry.msg === "claude started") claudeStarted.set(entry.taskId, entry.time);
        else worktreeMs.set(entry.taskId, (entry.mirrorMs ?? 0) + (entry.worktreeMs ?? 0));
      }
      done();
    },
  });
  const log = pino({ level: "info" }, capture);
  const agents: Array<{ agent: AgentClass; redis: Redis }> = [];
  const startAgents = async (upTo: number) => {
    // A few at a time: each probes its login with the fake CLI as it starts.
    while (agents.length < upTo) {
      const batch = Array.from({ length: Math.min(10, upTo - agents.length) }, async (_, i) => {
        const name = `idle-${String(agents.length + i).padStart(3, "0")}`;
        // A PC that has worked on the repository before has its mirror: no clone inside the figures.
        await syncMirror(workspacePaths(join(tmp, name), "bench", "idle", "warm").mirror, origin.url, { log: silentLogger, identity: BENCH_IDENTITY });
        const redis = await connectRedis(benchRedis.url);
        // Named as `ccc agent` names it.
        await redis.client("SETNAME", agentConnectionName(name));
        const agentOptions = agentOptionsSchema.parse({
          REDIS_URL: benchRedis.url,
          CCC_PREFIX: prefix,
          LOG_LEVEL: "info",
          name,
          workdir: join(tmp, name),
          claudeBin: FAKE_CLAUDE,
        });
        const agent = new Agent(agentOptions, { redis, taskSecrets, log });
        await agent.start();
        return { agent, redis };
      });
      agents.push(...(await Promise.all(batch)));
    }
  };
  let n = 0;
  const deps = { store, queues, jobs, cloneUrl: origin.url };
  const timeTasks = async () => {
    const total: number[] = [];
    const excludingWorktree: number[] = [];
    for (let i = 0; i < samples; i++) {
      await sleep(200);
      const queued = await enqueueOne(++n, deps);
      await finished(queued.jobId, jobs);
      const { taskId, enqueuedAt } = queued;
      const started = claudeStarted.get(taskId);
      if (started === undefined) throw new Error(`task ${taskId}: no "claude started" log`);
      total.push(started - enqueuedAt);
      excludingWorktree.push(started - enqueuedAt - (worktreeMs.get(taskId) ?? 0));
    }
    return { total: summarise(total), excludingWorktree: summarise(excludingWorktree) };
  };

  try {
    await startAgents(1);
    // One warm-up task (the first clones the mirror), then the single agent's figures.
    await timeTasks().catch(() => undefined);
    const one = await timeTasks();

    await startAgents(count);
    // Several tasks at once: each must wake an idle agent, though BullMQ keeps one marker for all.
    const burst = await Promise.all(Array.from({ length: Math.min(count, BURST) }, () => enqueueOne(++n, deps)));
    await Promise.all(burst.map((task) => finished(task.jobId, jobs, 5 * TASK_TIMEOUT_MS)));
    const burstStarts = burst.map((task) => (claudeStarted.get(task.taskId) ?? Number.NaN) - task.enqueuedAt);
    const burstAgents = new Set((await Promise.all(burst.map((task) => store.get(task.taskId)))).map((record) => record?.agent)).size;
    await sleep(SETTLE_MS);
    const before = await serverCounts(probe);
    const t0 = performance.now();
    await sleep(windowMs);
    const after = await serverCounts(probe);
    const seconds = (performance.now() - t0) / 1000;
    const names = await connectionNames(probe);
    const monitored = await monitor(benchRedis.url, prefix, 5_000);

    const many = await timeTasks();

    // The probe's own between the two counts: the first count's INFO all and the second's INFO
    // clients (a command is counted once it has run).
    const ownInfo = 2;
    const byName = [...after.byName]
      .map(([name, calls]) => [name, calls - (before.byName.get(name) ?? 0) - (name === "info" ? ownInfo : 0)] as const)
      .filter(([, calls]) => calls > 0)
      .sort((a, b) => b[1] - a[1]);
    const processed = after.processed - before.processed - ownInfo;
    const perAgentSent = processed / seconds / count;
    const perAgentAll = byName.reduce((s, [, c]) => s + c, 0) / seconds / count;
    const connections = after.clients - 1;
    const perAgentConnections = connections / count;
    const ratio = many.total.p50 / one.total.p50;
    return {
      name: "idle-agents",
      lines: [
        `what: ${count} real Agents (src/agent/agent.ts, as \`ccc agent\` runs it, each on its own connection) idle on tasks-general;`,
        `      ${benchRedis.description}; counts from the server (INFO clients, INFO stats, INFO commandstats) less the bench's probe;`,
        `      window ${seconds.toFixed(1)} s after ${SETTLE_MS / 1000} s to settle; dispatch: ${samples} tasks one at a time, fake claude, local bare origin`,
        `connections: ${connections} (${perAgentConnections.toFixed(2)} per agent)  (target ≤ ${MAX_CONNECTIONS})  ${verdict(perAgentConnections <= MAX_CONNECTIONS)}`,
        `  by client name: ${names}`,
        `commands sent: ${(processed / seconds).toFixed(1)}/s (${perAgentSent.toFixed(2)} per agent per s)  (target ≤ ${MAX_COMMANDS_PER_S})  ${verdict(perAgentSent <= MAX_COMMANDS_PER_S)}`,
        `  counting the calls inside Lua scripts too: ${perAgentAll.toFixed(2)} per agent per s`,
        `  by name, per agent per s: ${byName.map(([name, calls]) => `${name} ${(calls / seconds / count).toFixed(3)}`).join(", ")}`,
        `  by command and key, 5 s of MONITOR, per agent per s (what sends them: see docs/benchmarks.md):`,
        ...monitored.map(([what, calls]) => `    ${(calls / 5 / count).toFixed(3)}  ${what}`),
        `burst: ${burst.length} tasks queued at once: the last claude started ${ms(Math.max(...burstStarts))} after its enqueue (p50 ${ms(summarise(burstStarts).p50)}); ${burstAgents} agents took one or more`,
        `enqueue → claude started, 1 agent: p50 ${ms(one.total.p50)}, p99 ${ms(one.total.p99)}; excluding the worktree: p50 ${ms(one.excludingWorktree.p50)}`,
        `enqueue → claude started, ${count} agents: p50 ${ms(many.total.p50)}, p99 ${ms(many.total.p99)}; excluding the worktree: p50 ${ms(many.excludingWorktree.p50)}`,
        `  ${count} agents / 1 agent, p50: ${ratio.toFixed(2)}×  (target ≤ ${MAX_SLOWDOWN}×)  ${verdict(ratio <= MAX_SLOWDOWN)}` +
          `; excluding the worktree: ${(many.excludingWorktree.p50 / one.excludingWorktree.p50).toFixed(2)}× (every agent's mirror was cloned before it started)`,
        `machine: ${describeMachine()}`,
      ],
    };
  } finally {
    await Promise.all(agents.map(({ agent }) => agent.stop().catch(() => {})));
    for (const { redis } of agents) redis.disconnect();
    if (saved.scenario === undefined) delete process.env.FAKE_CLAUDE_SCENARIO;
    else process.env.FAKE_CLAUDE_SCENARIO = saved.scenario;
    if (saved.pass === undefined) delete process.env.CCC_CLAUDE_ENV_PASS;
    else process.env.CCC_CLAUDE_ENV_PASS = saved.pass;
    await jobs.close().catch(() => {});
    await queues.close().catch(() => {});
    probe.disconnect();
    await origin.cleanup();
    await rm(tmp, { recursive: true, force: true });
    await benchRedis.stop(prefix);
  }
}

export async function serverCounts(redis: Redis): Promise<ServerCounts> {
  const [clients, stats] = [await redis.info("clients"), await redis.info("all")];
  const byName = new Map<string, number>();
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) byName.set(match[1]!, Number(match[2]));
  return {
    clients: Number(/connected_clients:(\d+)/.exec(clients)?.[1]),
    byName,
    processed: Number(/total_commands_processed:(\d+)/.exec(stats)?.[1]),
  };
}

/** Connections by client name (BullMQ names its own), the probe left out. */
async function connectionNames(redis: Redis): Promise<string> {
  const list = (await redis.client("LIST")) as string;
  const byName = new Map<string, number>();
  for (const line of list.split("\n")) {
    if (!line.trim()) continue;
    const name = /\bname=(\S*)/.exec(line)?.[1] || "(unnamed)";
    if (name === BENCH_CLIENT) continue;
    const shape = name.replace(/idle-\d+/g, "<agent>");
    byName.set(shape, (byName.get(shape) ?? 0) + 1);
  }
  return [...byName].map(([name, n]) => `${name} ×${n}`).join(", ");
}

/** Commands seen by MONITOR for `forMs`, grouped by name and key shape (agent names and ids blanked). */
async function monitor(url: string, prefix: string, forMs: number): Promise<Array<[string, number]>> {
  const client = await connectRedis(url);
  const counts = new Map<string, number>();
  const monitor = await client.monitor();
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    const [command = "?", ...rest] = args;
    const key = rest.find((a) => a.startsWith(prefix)) ?? "";
    const shape = `${command.toLowerCase()} ${key
      .replace(prefix, "<prefix>")
      .replace(/idle-\d+/g, "<agent>")
      .replace(/:\d+$/, ":<n>")}`;
    const what = source === "lua" ? `  (in Lua) ${shape}` : shape;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  });
  await sleep(forMs);
  monitor.disconnect();
  client.disconnect();
  return [...counts].sort((a, b) => b[1] - a[1]);
}

interface Enqueue {
  store: TaskStore;
  queues: TaskQueues;
  jobs: Queue;
  cloneUrl: string;
}

export interface Queued {
  taskId: string;
  jobId: string;
  enqueuedAt: number;
}

/** Claims and queues one task as enqueueTask does; `enqueuedAt` is taken just before the job's add. */
export async function enqueueOne(n: number, deps: Pick<Enqueue, "store" | "queues" | "cloneUrl">): Promise<Queued> {
  const owner = "bench";
  const repo = "idle";
  const taskId = formatTaskId({ owner, repo, number: n });
  const claim = await claimTask(
    deps.store,
    {
      taskId,
      repo: { owner, name: repo, cloneUrl: deps.cloneUrl, defaultBranch: "main" },
      installationId: 1,
      issue: { number: n, title: `Bench task ${n}`, body: "Change nothing.", url: `https://github.com/${owner}/${repo}/issues/${n}`, author: "bench" },
      comments: [],
      specialty: GENERAL,
      priority: "normal",
      reason: "bench",
      trigger: { kind: "label", actor: "bench", deliveryId: `bench-idle-${n}` },
      branch: `claude/issue-${n}-bench-task-${n}`,
      settings: { maxTurns: 5, timeoutMinutes: 5, allowedTools: ["Read"], permissionMode: "acceptEdits", draftPullRequest: false },
      createdAt: Date.now(),
    },
    taskQueueName(GENERAL),
  );
  if (!claim.created) throw new Error(`${taskId} is already live`);
  const jobId = taskJobId(taskId, claim.task.run);
  const enqueuedAt = Date.now();
  await deps.queues.add(claim.task);
  return { taskId, jobId, enqueuedAt };
}

async function finished(jobId: string, jobs: Queue, timeoutMs = TASK_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = await jobs.getJobState(jobId);
    if (state === "completed" || state === "failed") return;
    await sleep(20);
  }
  throw new Error(`job ${jobId} did not finish within ${timeoutMs / 1000} s`);
}

function sleep(msToWait: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, msToWait));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [agents, samples, windowSeconds] = process.argv.slice(2).map(Number);
  const result = await benchIdleAgents({
    ...(agents ? { agents } : {}),
    ...(samples ? { samples } : {}),
    ...(windowSeconds ? { windowMs: windowSeconds * 1000 } : {}),
  });
  console.log(`# ${result.name}\n${result.lines.join("\n")}`);
}
