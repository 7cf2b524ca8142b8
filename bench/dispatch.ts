import { randomBytes } from "node:crypto";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Queue } from "bullmq";
import { execa } from "execa";
import { pino } from "pino";
import { agentOptionsSchema } from "../src/config/agent-options.js";
import { claimTask } from "../src/queue/task-factory.js";
import { taskJobId, taskQueueName, TaskQueues } from "../src/queue/task-queues.js";
import { TaskStore } from "../src/queue/task-store.js";
import { connectRedis } from "../src/shared/connect-redis.js";
import { GENERAL } from "../src/shared/specialty.js";
import { formatTaskId } from "../src/shared/task-id.js";
import { createOrigin } from "../test/helpers/git-origin.js";
import { startBenchRedis } from "./bench-redis.js";
import { describeMachine } from "./machine.js";
import { ms, summarise, verdict, type Summary } from "./stats.js";
import { startTracing } from "../src/telemetry/start-tracing.js";

export interface DispatchOptions {
  /** Measured tasks, one at a time on an idle agent. @defaultValue 30 */
  samples?: number;
  /** OTEL_* settings: the agent traces each task as `ccc agent` does with them set (bench/tracing.ts). */
  tracing?: Record<string, string>;
}

/** The figures bench/tracing.ts compares: enqueue → claude spawned, excluding the worktree, and end to end. */
export interface DispatchFigures {
  agentOwn: Summary;
  total: Summary;
}

const FAKE_CLAUDE = fileURLToPath(new URL("../test/fake-claude/fake-claude.mjs", import.meta.url));
const OWNER = "bench";
const REPO = "dispatch";
const WARM_UP = 2;
const P99_TARGET_MS = 50;
/** Bounds every wait, so a broken agent ends the bench instead of hanging it. */
const TASK_TIMEOUT_MS = 60_000;

interface WorktreeLog {
  time: number;
  mirrorMs: number;
  worktreeMs: number;
}

/**
 * Enqueue → `claude` spawned, on a real Agent that is idle each time, with the fake CLI and a
 * local bare origin. The worktree (mirror fetch + `git worktree add` + checkout) is reported
 * apart, from the agent's own `worktree ready` log line.
 */
export async function benchDispatch(options: DispatchOptions = {}): Promise<{ name: string; lines: string[]; figures?: DispatchFigures }> {
  const samples = options.samples ?? 30;
  const missing = await missingPieces();
  if (missing.length > 0) {
    return { name: "dispatch", lines: [`skipped: ${missing.join(", ")} not present yet`] };
  }

  // Imported late: the agent pulls in the claude runner, which may not exist yet.
  const { Agent } = await import("../src/agent/agent.js");
  const prefix = `ccc-bench-${randomBytes(4).toString("hex")}`;
  const tmp = await mkdtemp(join(tmpdir(), "ccc-bench-dispatch-"));
  const spawnLog = join(tmp, "spawns.log");
  await writeFile(spawnLog, "");
  const benchRedis = await startBenchRedis();
  const origin = await createOrigin();
  const redis = await connectRedis(benchRedis.url);
  const probe = await connectRedis(benchRedis.url);
  const store = new TaskStore(redis, prefix);
  // Signed and verified as in production; a key of the bench's own.
  const taskSecrets: [string] = [randomBytes(32).toString("hex")];
  const queues = new TaskQueues({ connection: redis, prefix, secrets: taskSecrets });
  const jobs = new Queue(taskQueueName(GENERAL), { connection: probe, prefix });

  // The agent spawns the fake with Claude's allowlisted environment, built from this process's:
  // CCC_CLAUDE_ENV_PASS lets the fake's settings through, as an agent owner would.
  const savedEnv = { log: process.env.FAKE_CLAUDE_SPAWN_LOG, scenario: process.env.FAKE_CLAUDE_SCENARIO, pass: process.env.CCC_CLAUDE_ENV_PASS };
  process.env.FAKE_CLAUDE_SPAWN_LOG = spawnLog;
  process.env.FAKE_CLAUDE_SCENARIO = "no-changes";
  process.env.CCC_CLAUDE_ENV_PASS = "FAKE_CLAUDE_*";

  // The agent logs at info, as in production; its `worktree ready` lines carry the git timings.
  // "claude started" is logged by the runner right after execa has the child's pid.
  const worktreeLogs = new Map<string, WorktreeLog>();
  const claudeStarted = new Map<string, number>();
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.includes("worktree ready") && !line.includes("claude started")) continue;
        const entry = JSON.parse(line) as { msg: string; taskId?: string; time: number; mirrorMs: number; worktreeMs: number };
        if (!entry.taskId) continue;
        if (entry.msg === "worktree ready") worktreeLogs.set(entry.taskId, { time: entry.time, mirrorMs: entry.mirrorMs, worktreeMs: entry.worktreeMs });
        if (entry.msg === "claude started") claudeStarted.set(entry.taskId, entry.time);
      }
      done();
    },
  });
  const agentOptions = agentOptionsSchema.parse({
    REDIS_URL: benchRedis.url,
    CCC_PREFIX: prefix,
    LOG_LEVEL: "info",
    name: "bench-agent",
    workdir: join(tmp, "agent"),
    claudeBin: FAKE_CLAUDE,
  });
  const log = pino({ level: "info" }, capture);
  const agent = new Agent(agentOptions, { redis, taskSecrets, log });
  const tracing = options.tracing ? await startTracing("agent", pino({ level: "silent" }), options.tracing) : undefined;

  try {
    await agent.start();
    const totals: number[] = [];
    const worktrees: number[] = [];
    const pickups: number[] = [];
    const execs: number[] = [];
    const boots: number[] = [];
    const excludingWorktree: number[] = [];
    const ends: Record<string, number> = {};
    for (let n = 1; n <= WARM_UP + samples; n++) {
      // Idle agent: its worker is back in its blocking wait for the next job.
      await sleep(100);
      const { taskId, enqueuedAt, state } = await runOne(n, { store, queues, jobs, cloneUrl: origin.url });
      ends[state] = (ends[state] ?? 0) + 1;
      if (n <= WARM_UP) continue;
      const spawnedAt = await lastSpawn(spawnLog);
      const worktree = worktreeLogs.get(taskId);
      const started = claudeStarted.get(taskId);
      if (spawnedAt === undefined || worktree === undefined || started === undefined) {
        throw new Error(`task ${taskId}: missing the fake's spawn line or the agent's "worktree ready" / "claude started" log`);
      }
      const worktreeMs = worktree.mirrorMs + worktree.worktreeMs;
      totals.push(spawnedAt - enqueuedAt);
      worktrees.push(worktreeMs);
      excludingWorktree.push(spawnedAt - enqueuedAt - worktreeMs);
      pickups.push(worktree.time - worktreeMs - enqueuedAt);
      execs.push(started - worktree.time);
      boots.push(spawnedAt - started);
    }
    const boot = await fakeStartup(spawnLog, 10);
    // Node reads the whole NODE_EXTRA_CA_CERTS bundle before running any code; where it is set, show what it costs.
    const bootWithoutCa = process.env.NODE_EXTRA_CA_CERTS ? await fakeStartup(spawnLog, 10, { NODE_EXTRA_CA_CERTS: undefined }) : undefined;

    const total = summarise(totals);
    const worktree = summarise(worktrees);
    const pickup = summarise(pickups);
    const exec = summarise(execs);
    const inAgent = summarise(boots);
    const alone = summarise(boot);
    const agentOwn = summarise(excludingWorktree.map((v, i) => v - boots[i]!));
    return {
      name: "dispatch",
      figures: { agentOwn, total },
      lines: [
        `what: a task job added to tasks-general (TaskStore.claim + TaskQueues.add, as enqueueTask does) until the fake claude's first line`,
        `      (it appends Date.now() to FAKE_CLAUDE_SPAWN_LOG as it starts); one real Agent in this process, concurrency 1, idle before each task;`,
        `      ${samples} tasks for distinct issues one at a time after ${WARM_UP} warm-up tasks (the first clones the mirror); fake scenario no-changes;`,
        `      origin: local bare repository (file://); ${benchRedis.description}; clocks: Date.now() in both processes, 1 ms resolution`,
        // "Spawned" is the moment the OS process exists (execa has its pid): what the agent controls.
        // How long the CLI then takes to boot is the CLI's own start-up, reported apart below.
        `enqueue → claude spawned, excluding worktree: p50 ${ms(agentOwn.p50)}, p99 ${ms(agentOwn.p99)}, max ${ms(agentOwn.max)}  (target p99 < ${P99_TARGET_MS} ms)  ${verdict(agentOwn.p99 < P99_TARGET_MS)}`,
        `    1. job pickup + claim + task-changed event (enqueue → worktree start): p50 ${ms(pickup.p50)}, p99 ${ms(pickup.p99)}`,
        `    2. worktree ready → claude spawned (prompt, transcript file, execa spawn): p50 ${ms(exec.p50)}, p99 ${ms(exec.p99)}`,
        `  worktree (mirror fetch + worktree add + checkout, from the agent's "worktree ready" log): p50 ${ms(worktree.p50)}, p99 ${ms(worktree.p99)}`,
        `  then the CLI's own start-up, spawn → the fake's first line: p50 ${ms(inAgent.p50)}, p99 ${ms(inAgent.p99)}`,
        `  end to end, enqueue → the fake's first line (worktree and CLI start-up included): p50 ${ms(total.p50)}, p99 ${ms(total.p99)}, max ${ms(total.max)}`,
        `  for scale, the fake run alone by execa, spawn → its first line (${boot.length} runs): p50 ${ms(alone.p50)}, p99 ${ms(alone.p99)}` +
          (bootWithoutCa
            ? `; with NODE_EXTRA_CA_CERTS unset (it is set here): p50 ${ms(summarise(bootWithoutCa).p50)}, p99 ${ms(summarise(bootWithoutCa).p99)}`
            : ""),
        `check: ${WARM_UP + samples} tasks ended ${Object.entries(ends)
          .map(([state, count]) => `${state} ×${count}`)
          .join(", ")}`,
        `machine: ${describeMachine()}`,
      ],
    };
  } finally {
    await agent.stop().catch(() => {});
    await tracing?.shutdown();
    if (savedEnv.log === undefined) delete process.env.FAKE_CLAUDE_SPAWN_LOG;
    else process.env.FAKE_CLAUDE_SPAWN_LOG = savedEnv.log;
    if (savedEnv.scenario === undefined) delete process.env.FAKE_CLAUDE_SCENARIO;
    else process.env.FAKE_CLAUDE_SCENARIO = savedEnv.scenario;
    if (savedEnv.pass === undefined) delete process.env.CCC_CLAUDE_ENV_PASS;
    else process.env.CCC_CLAUDE_ENV_PASS = savedEnv.pass;
    await jobs.close().catch(() => {});
    await queues.close().catch(() => {});
    redis.disconnect();
    probe.disconnect();
    await origin.cleanup();
    await rm(tmp, { recursive: true, force: true });
    await benchRedis.stop(prefix);
  }
}

/** Files being written by others at the time this bench was written; skip rather than fail. */
async function missingPieces(): Promise<string[]> {
  const needed = ["../src/claude/run-claude.ts", "../test/fake-claude/fake-claude.mjs", "../test/helpers/git-origin.ts", "../src/workspace/workspace.ts"];
  const missing: string[] = [];
  for (const path of needed) {
    await access(new URL(path, import.meta.url)).catch(() => missing.push(path.slice(3)));
  }
  return missing;
}

interface Enqueue {
  store: TaskStore;
  queues: TaskQueues;
  jobs: Queue;
  cloneUrl: string;
}

/** Claims and queues one task as enqueueTask does, then waits until the agent has finished it. */
async function runOne(n: number, deps: Enqueue): Promise<{ taskId: string; enqueuedAt: number; state: string }> {
  const taskId = formatTaskId({ owner: OWNER, repo: REPO, number: n });
  const title = `Bench task ${n}`;
  const branch = `claude/issue-${n}-bench-task-${n}`;
  const queue = taskQueueName(GENERAL);
  const now = Date.now();
  const claim = await claimTask(
    deps.store,
    {
      taskId,
      repo: { owner: OWNER, name: REPO, cloneUrl: deps.cloneUrl, defaultBranch: "main" },
      installationId: 1,
      issue: {
        number: n,
        title,
        body: "Change nothing; this is a dispatch benchmark.",
        url: `https://github.com/${OWNER}/${REPO}/issues/${n}`,
        author: "bench",
      },
      comments: [],
      specialty: GENERAL,
      priority: "normal",
      reason: "bench",
      trigger: { kind: "label", actor: "bench", deliveryId: `bench-${n}` },
      branch,
      settings: { maxTurns: 5, timeoutMinutes: 5, allowedTools: ["Read"], permissionMode: "acceptEdits", draftPullRequest: false },
      createdAt: now,
    },
    queue,
  );
  if (!claim.created) throw new Error(`${taskId} is already live`);
  const data = claim.task;
  const jobId = taskJobId(taskId, data.run);

  const enqueuedAt = Date.now();
  await deps.queues.add(data);

  const deadline = Date.now() + TASK_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const state = await deps.jobs.getJobState(jobId);
    if (state === "completed" || state === "failed") {
      const record = await deps.store.get(taskId);
      return { taskId, enqueuedAt, state: `${state}/${record?.state ?? "?"}` };
    }
    await sleep(20);
  }
  throw new Error(`task ${taskId} did not finish within ${TASK_TIMEOUT_MS / 1000} s`);
}

async function lastSpawn(spawnLog: string): Promise<number | undefined> {
  const lines = (await readFile(spawnLog, "utf8")).split("\n").filter((l) => l.trim() !== "");
  const last = lines.at(-1);
  return last === undefined ? undefined : Number(last);
}

/** The fake's own start-up: execa spawn → its first line, without any agent around it. */
async function fakeStartup(spawnLog: string, runs: number, env: Record<string, string | undefined> = {}): Promise<number[]> {
  const cwd = await mkdtemp(join(tmpdir(), "ccc-bench-fake-"));
  const out: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const started = Date.now();
      await execa(FAKE_CLAUDE, ["-p", "bench", "--output-format", "stream-json", "--verbose"], { cwd, env, reject: false, input: "" });
      const spawned = await lastSpawn(spawnLog);
      if (spawned !== undefined) out.push(spawned - started);
    }
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
  return out;
}

function sleep(msToWait: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, msToWait));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const samples = process.argv[2] ? Number(process.argv[2]) : undefined;
  const result = await benchDispatch({ samples });
  console.log(`# ${result.name}\n${result.lines.join("\n")}`);
}
