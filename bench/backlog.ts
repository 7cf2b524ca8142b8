import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { claimTask, type TaskDraft } from "../src/queue/task-factory.js";
import { taskQueueName, TaskQueues } from "../src/queue/task-queues.js";
import { TaskStore } from "../src/queue/task-store.js";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { statusCommand } from "../src/cli/status-command.js";
import { GENERAL } from "../src/shared/specialty.js";
import type { RedisClient } from "../src/shared/redis-client.js";
import { startAppProcess, type AppProcess } from "../test/helpers/app-process.js";
import { startBenchRedis } from "./bench-redis.js";
import { describeMachine } from "./machine.js";
import { ms, summarise, verdict } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
const SECRET = `bench-backlog-secret-${randomBytes(16).toString("hex")}`;
const RSS_TARGET_MB = 150;
const STATUS_TARGET_MS = 1_000;
const METRICS_TARGET_MS = 500;
/**
 * The usage check runs every this many seconds in the bench (default 60 s); the reconciler keeps
 * its default 5 s, as a shorter interval would make it read pages faster than production does.
 */
const USAGE_SECONDS = 2;
/** How long the app runs against the backlog before the figures are taken: 5 reconciler passes at least. */
const SETTLE_MS = 26_000;
const SPECIALTIES = [GENERAL, "frontend", "backend"];

interface BacklogFigures {
  queued: number;
  agent: boolean;
  fillSeconds: number;
  redisBytes: number;
  rssPeakMb: number;
  rssSteadyMb: number;
  metricsMs: number[];
  statusMs: number[];
  /** `ccc agents --json`: the same start-up and connection with no backlog read, for comparison. */
  agentsMs: number[];
  /** `statusCommand` in this process on a connected client: the command's own reads, no start-up. */
  statusInProcessMs: number[];
  passes: number[];
  passRead: number[];
}

/**
 * The app against a backlog: N queued tasks written through the product's own claim and enqueue
 * (`claimTask` + `TaskQueues.add`, signed, many at once on one auto-pipelined connection), then
 * the built app (`node dist/app/main.js`) with the reconciler every 5 s and the usage check every 2 s;
 * its RSS sampled from /proc while every pass runs several times, `/metrics` and `ccc status
 * --json` timed. One fresh redis-server per backlog size, so Redis's memory per task is read
 * from INFO's used_memory before and after the fill.
 */
export async function benchBacklog(options: { counts?: number[] } = {}): Promise<{ name: string; lines: string[] }> {
  const counts = options.counts ?? [0, 10_000, 100_000];
  for (const file of ["dist/app/main.js", "dist/cli/main.js"])
    if (!existsSync(join(ROOT, file))) return { name: "backlog", lines: [`skipped: ${file} is missing; run \`npm run build\` (npm run bench does)`] };
  const lines = [
    `machine: ${describeMachine()}`,
    `app: node dist/app/main.js, CCC_RECONCILE_SECONDS 5 (its default), CCC_USAGE_CHECK_SECONDS=${USAGE_SECONDS} (default 60), CCC_REPORTER=off (no GitHub);`,
    `  measured after ${SETTLE_MS / 1000} s of passes; RSS sampled every 250 ms from /proc/<pid>/status (steady: median of the last 5 s)`,
    `/metrics: 5 scrapes one after another; ccc status --json: 3 runs of node dist/cli/main.js (process start included)`,
  ];
  const runs = [
    ...counts.map((queued) => ({ queued, agent: true })),
    ...counts
      .slice(-1)
      .filter((n) => n > 0)
      .map((queued) => ({ queued, agent: false })),
  ];
  for (const { queued, agent } of runs) {
    const f = await measure(queued, agent);
    const steady = f.rssSteadyMb;
    const metrics = summarise(f.metricsMs);
    const status = summarise(f.statusMs);
    const passes = summarise(f.passes);
    lines.push(
      ``,
      `${queued.toLocaleString("en")} queued, ${agent ? "one busy agent serving every specialty" : "no agent (a reason written on every task the reconciler reaches)"} (filled in ${f.fillSeconds.toFixed(1)} s)`,
      `  app RSS: peak ${f.rssPeakMb.toFixed(0)} MB, steady ${steady.toFixed(0)} MB  (target ≤ ${RSS_TARGET_MB} MB)  ${verdict(f.rssPeakMb <= RSS_TARGET_MB)}`,
      `  /metrics: p50 ${ms(metrics.p50)}, max ${ms(metrics.max)}  (target < ${METRICS_TARGET_MS} ms)  ${verdict(metrics.max < METRICS_TARGET_MS)}`,
      `  ccc status --json: p50 ${ms(status.p50)}, max ${ms(status.max)}  (target < ${STATUS_TARGET_MS} ms)  ${verdict(status.max < STATUS_TARGET_MS)};` +
        ` ccc agents --json (start-up and connection alone): p50 ${ms(summarise(f.agentsMs).p50)};` +
        ` the status command's own work (in process, no start-up): p50 ${ms(summarise(f.statusInProcessMs).p50)}`,
      f.passes.length > 0
        ? `  reconciler passes: ${f.passes.length}, p50 ${ms(passes.p50)}, max ${ms(passes.max)}, task records read per pass: max ${Math.max(...f.passRead)}`
        : `  reconciler passes: none finished within the run`,
      queued > 0
        ? `  Redis used_memory: +${(f.redisBytes / 2 ** 20).toFixed(1)} MiB for the backlog, ${(((f.redisBytes / queued) * 10_000) / 2 ** 20).toFixed(1)} MiB per 10,000 queued tasks`
        : `  Redis used_memory: (no tasks)`,
    );
  }
  return { name: "backlog", lines };
}

/**
 * With `agent`, one busy agent serving every specialty is registered, as in a cluster whose
 * agents are at work while the backlog waits: the reconciler finds nothing to say on a queued
 * task. Without, it writes "no agent is running" on each task it reaches (a page per pass) and
 * has the reporter told: the heaviest first sight of a backlog.
 */
async function measure(queued: number, agent: boolean): Promise<BacklogFigures> {
  const server = await startBenchRedis();
  const prefix = `ccc-bench-${randomBytes(4).toString("hex")}`;
  const redis = new Redis(server.url, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  let app: AppProcess | undefined;
  try {
    const before = await usedMemory(redis);
    const t0 = performance.now();
    await fillBacklog(redis, prefix, queued);
    const fillSeconds = (performance.now() - t0) / 1000;
    const redisBytes = (await usedMemory(redis)) - before;
    if (agent) {
      const now = Date.now();
      await new AgentRegistry(redis, prefix).heartbeat(
        {
          name: "bench-agent",
          host: "bench",
          account: "team",
          specialties: SPECIALTIES.slice(1),
          concurrency: 1,
          state: "busy",
          tasks: [],
          startedAt: now,
          lastSeen: now,
          version: "bench",
        },
        600,
      );
    }

    app = await startAppProcess({
      prefix,
      entry: join(ROOT, "dist/app/main.js"),
      env: {
        REDIS_URL: server.url,
        CCC_TASK_SECRET: SECRET,
        CCC_USAGE_CHECK_SECONDS: String(USAGE_SECONDS),
        CCC_REPORTER: "off",
        LOG_LEVEL: "debug",
        LOG_FORMAT: "json",
      },
    });
    const pid = app.child.pid!;
    const rss: number[] = [];
    const sampler = setInterval(() => void vmRssMb(pid).then((mb) => mb !== undefined && rss.push(mb)), 250);
    const started = Date.now();
    const metricsMs: number[] = [];
    // A scrape now and then while the passes run: the census is one of the periodic reads.
    while (Date.now() - started < SETTLE_MS) {
      await timed(() => scrape(app!));
      await new Promise((r) => setTimeout(r, 2_000));
    }
    for (let i = 0; i < 5; i++) metricsMs.push(await timed(() => scrape(app!)));
    const statusMs: number[] = [];
    const agentsMs: number[] = [];
    const statusInProcessMs: number[] = [];
    const quiet = { out: () => {}, err: () => {} };
    for (let i = 0; i < 3; i++) statusInProcessMs.push(await timed(async () => void (await statusCommand({ redis, prefix, output: quiet, json: true }))));
    for (let i = 0; i < 3; i++) {
      statusMs.push(await timed(() => cccStatus(server.url, prefix, queued)));
      agentsMs.push(await timed(() => ccc({ REDIS_URL: server.url }, prefix, ["agents", "--json"]).then(() => undefined)));
    }
    clearInterval(sampler);
    const last = rss.slice(-20).sort((a, b) => a - b);
    const passLines = app
      .output()
      .split("\n")
      .flatMap((line) => {
        try {
          const parsed = JSON.parse(line) as { msg?: string; durationMs?: number; read?: number };
          return parsed.msg === "reconciler pass" && typeof parsed.durationMs === "number" ? [parsed] : [];
        } catch {
          return [];
        }
      });
    return {
      queued,
      agent,
      fillSeconds,
      redisBytes,
      rssPeakMb: Math.max(...rss),
      rssSteadyMb: last[Math.floor(last.length / 2)] ?? Number.NaN,
      metricsMs,
      statusMs,
      agentsMs,
      statusInProcessMs,
      passes: passLines.map((p) => p.durationMs!),
      passRead: passLines.map((p) => p.read ?? 0),
    };
  } finally {
    await app?.stop();
    redis.disconnect();
    await server.stop(prefix);
  }
}

/** N queued tasks, each claimed and queued as the app does it, 500 in flight at a time, spread over `specialties`. */
export async function fillBacklog(
  redis: RedisClient,
  prefix: string,
  count: number,
  secret = SECRET,
  specialties: readonly string[] = SPECIALTIES,
): Promise<void> {
  const store = new TaskStore(redis, prefix);
  const queues = new TaskQueues({ connection: redis, prefix, secrets: [secret] });
  let next = 0;
  const worker = async () => {
    for (let n = next++; n < count; n = next++) {
      const specialty = specialties[n % specialties.length]!;
      const repo = `repo-${n % 20}`;
      const number = n + 1;
      const draft: TaskDraft = {
        taskId: `octo-org/${repo}#${number}`,
        repo: { owner: "octo-org", name: repo, cloneUrl: `https://github.com/octo-org/${repo}.git`, defaultBranch: "main" },
        installationId: 1,
        issue: {
          number,
          title: `Make the thing number ${number} work`,
          body: "It does not work yet. Steps to reproduce: run it.",
          url: `https://github.com/octo-org/${repo}/issues/${number}`,
          author: "maintainer",
        },
        comments: [],
        specialty,
        priority: "normal",
        reason: "label",
        trigger: { kind: "label", actor: "maintainer", deliveryId: `bench-${number}` },
        branch: `claude/issue-${number}-make-the-thing-work`,
        settings: { maxTurns: 30, timeoutMinutes: 30, allowedTools: ["Edit", "Write", "Bash(git:*)"], permissionMode: "acceptEdits", draftPullRequest: false },
        createdAt: Date.now(),
      };
      const claim = await claimTask(store, draft, taskQueueName(specialty));
      if (claim.created) await queues.add(claim.task);
    }
  };
  try {
    await Promise.all(Array.from({ length: 500 }, worker));
  } finally {
    await queues.close();
  }
}

export async function scrape(app: AppProcess): Promise<void> {
  const res = await app.request("/metrics");
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  await res.text();
}

async function cccStatus(url: string, prefix: string, queued: number): Promise<void> {
  const status = JSON.parse(await ccc({ REDIS_URL: url }, prefix, ["status", "--json"])) as { queues: Array<{ waiting: number }> };
  const waiting = status.queues.reduce((sum, q) => sum + q.waiting, 0);
  if (waiting !== queued) throw new Error(`ccc status counted ${waiting} waiting jobs, not ${queued}`);
}

/** The built `ccc` against the bench's Redis (REDIS_URL, or REDIS_CLUSTER_NODES, …) and prefix; its stdout. */
export function ccc(redisEnv: Record<string, string | undefined>, prefix: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [join(ROOT, "dist/cli/main.js"), ...args],
      { env: { ...process.env, ...redisEnv, CCC_PREFIX: prefix }, maxBuffer: 64 * 2 ** 20, timeout: 60_000 },
      (error, stdout) => (error ? reject(error) : resolvePromise(stdout)),
    );
  });
}

export async function timed(step: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await step();
  return performance.now() - t0;
}

export async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? Number.NaN);
}

export async function vmRssMb(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const counts = process.argv.slice(2).map(Number).filter(Number.isFinite);
  const result = await benchBacklog(counts.length > 0 ? { counts: [0, ...counts.filter((c) => c > 0)] } : {});
  for (const line of result.lines) console.log(line);
}
