import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Redis } from "ioredis";
import { z } from "zod";
import { statusCommand } from "../src/cli/status-command.js";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { startAppProcess, type AppProcess } from "../test/helpers/app-process.js";
import { ccc, fillBacklog, scrape, timed, usedMemory, vmRssMb } from "./backlog.js";
import type { ServerCounts } from "./idle-agents.js";
import { describeMachine } from "./machine.js";
import { DispatchTimer, type DispatchPhase } from "./scale-dispatch.js";
import { startAgentHosts } from "./scale-hosts.js";
import { byName, connectionsByName, countEach, redisCpuSeconds, sum, sumCounts } from "./scale-server-counts.js";
import { startScaleTarget } from "./scale-target.js";
import { ms, summarise, verdict } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
/** The bench's own connections are named so; every other connection is an agent's (or, later, the app's). */
const OWN = "ccc-bench-";
const P99_TARGET_MS = 100;
const MAX_COMMANDS_PER_S = 1;
const MAX_CONNECTIONS = 3;
const RSS_TARGET_MB = 150;
const METRICS_TARGET_MS = 500;
const STATUS_TARGET_MS = 1_000;
/** The backlog waits for specialists: the simulated agents serve `general` only, so it stays queued. */
const BACKLOG_SPECIALTIES = ["frontend", "backend"];
const SETTLE_MS = 5_000;
/** The app runs at least this long (5 reconciler passes) before /metrics and `ccc status` are timed. */
const APP_RUN_MS = 26_000;
/** After the app's start (a burst of CPU on a small machine) before tasks are timed. */
const APP_SETTLE_MS = 5_000;

export const scaleOptionsSchema = z.object({
  /** Simulated agents. */
  agents: z.coerce.number().int().min(1).default(1_000),
  /** Node processes they are spread over. */
  hosts: z.coerce.number().int().min(1).default(8),
  /** Tasks queued for specialists no simulated agent serves, before anything is measured. */
  backlog: z.coerce.number().int().min(0).default(100_000),
  /** Tasks timed one at a time, each added once the previous is claimed, every agent idle. */
  sequential: z.coerce.number().int().min(0).default(100),
  /** Tasks timed at a steady rate (open loop: each added at its scheduled time, whatever the answers). */
  samples: z.coerce.number().int().min(0).default(400),
  /** Tasks added per second in the steady phase. */
  rate: z.coerce.number().positive().default(10),
  /** Tasks added at once, last. */
  burst: z.coerce.number().int().min(0).default(100),
  /** The idle window, past the longest idle timer (60 s). */
  windowSeconds: z.coerce.number().positive().default(61),
  /** The Redis Cluster half instead of one Redis. */
  cluster: z.boolean().default(false),
});
export type ScaleOptions = z.input<typeof scaleOptionsSchema>;

/** `--agents=200 --backlog=10000 --cluster`: the flags `npm run bench -- scale …` passes on. */
export function scaleOptionsFromArgs(args: readonly string[]): ScaleOptions {
  const options: Record<string, string | boolean> = {};
  for (const arg of args) {
    const match = /^--([a-zA-Z]+)(?:=(.*))?$/.exec(arg);
    if (match) options[match[1]!] = match[2] ?? true;
  }
  return scaleOptionsSchema.parse(options);
}

/**
 * 1,000 simulated agents (the real Agent class with the run replaced, bench/scale-agents.ts) in
 * a few Node processes, each agent on its own Redis connections, over a backlog of 100,000
 * queued tasks; their idle cost from the server's counts, dispatch (add → claim) under a steady
 * stream of tasks, then the built app's RSS, `/metrics` and `ccc status --json`.
 */
export async function benchScale(input: ScaleOptions = {}): Promise<{ name: string; lines: string[] }> {
  const options = scaleOptionsSchema.parse(input);
  const name = options.cluster ? "scale (Redis Cluster)" : "scale";
  for (const file of ["dist/app/main.js", "dist/cli/main.js"])
    if (!existsSync(join(ROOT, file))) return { name, lines: [`skipped: ${file} is missing; run \`npm run build\` (npm run bench does)`] };
  const started = await startScaleTarget(options.cluster ? "cluster" : "single");
  if (!started.ok) return { name, lines: [started.reason, "skipped: the one-Redis half runs without --cluster"] };
  const target = started.target;
  const prefix = target.prefix;
  const secret = randomBytes(32).toString("hex");
  const tmp = await mkdtemp(join(tmpdir(), "ccc-bench-scale-"));
  const lines = [
    `what: ${options.agents} simulated agents (the Agent class of \`ccc agent\`: name claim, registry heartbeat, control subscription,`,
    `      fetch loop over tasks-general, BullMQ worker, signed-job check, the run's claim; the run itself finishes at once) in ${options.hosts} Node processes;`,
    `      ${options.backlog.toLocaleString("en")} tasks queued for ${BACKLOG_SPECIALTIES.join(" and ")} (no simulated agent serves them) and one busy specialist registered;`,
    `      ${target.description}`,
  ];
  const servers = await target.servers();
  const redis = await target.connect(`${OWN}driver`);
  let app: AppProcess | undefined;
  let hosts: Awaited<ReturnType<typeof startAgentHosts>> | undefined;
  try {
    await Promise.all(servers.map((server) => server.client("SETNAME", `${OWN}probe`)));
    // 1. The backlog, written as the app writes tasks.
    const t0 = performance.now();
    await fillBacklog(redis, prefix, options.backlog, secret, BACKLOG_SPECIALTIES);
    const fillSeconds = (performance.now() - t0) / 1000;
    const now = Date.now();
    await new AgentRegistry(redis, prefix).heartbeat(
      {
        name: "bench-specialist",
        host: "bench",
        account: "team",
        specialties: BACKLOG_SPECIALTIES,
        concurrency: 1,
        state: "busy",
        tasks: [],
        startedAt: now,
        lastSeen: now,
        version: "bench",
      },
      3_600,
    );
    lines.push(
      `backlog: ${options.backlog.toLocaleString("en")} queued in ${fillSeconds.toFixed(0)} s; Redis used_memory ${mib(await sum(servers, usedMemory))}`,
    );

    // 2. The agents.
    hosts = await startAgentHosts({ agents: options.agents, hosts: options.hosts, env: target.env, prefix, secret, workdir: tmp });
    lines.push(`agents: ${options.agents} started in ${(hosts.startMs / 1000).toFixed(1)} s in ${hosts.pids.length} processes; load average ${load()}`);

    // 3. Idle: what the agents cost Redis while nothing happens.
    await sleep(SETTLE_MS);
    await hosts.loopDelay();
    const cpuBefore = await sum(servers, redisCpuSeconds);
    const beforeEach = await countEach(servers);
    const w0 = performance.now();
    await sleep(options.windowSeconds * 1000);
    const afterEach = await countEach(servers);
    const [before, after] = [sumCounts(beforeEach), sumCounts(afterEach)];
    const seconds = (performance.now() - w0) / 1000;
    const idleDelays = await hosts.loopDelay();
    const redisCpu = ((await sum(servers, redisCpuSeconds)) - cpuBefore) / seconds;
    // The probes' own INFO between the two counts, one of each per server.
    const processed = after.processed - before.processed - 2 * servers.length;
    const connections = await connectionsByName(servers);
    const agentConnections = agentsOnly(connections);
    const hostRss = (await Promise.all(hosts.pids.map(vmRssMb))).reduce((s: number, mb) => s + (mb ?? 0), 0);
    const perAgentCommands = processed / seconds / options.agents;
    const perAgentConnections = agentConnections / options.agents;
    lines.push(
      `idle, ${seconds.toFixed(1)} s window after ${SETTLE_MS / 1000} s to settle (server counts, the bench's own left out):`,
      `  connections: ${agentConnections} (${perAgentConnections.toFixed(2)} per agent)  (target ≤ ${MAX_CONNECTIONS})  ${verdict(perAgentConnections <= MAX_CONNECTIONS)}`,
      `    by client name: ${[...connections].map(([shape, n]) => `${shape} ×${n}`).join(", ")}`,
      `  commands: ${(processed / seconds).toFixed(0)}/s (${perAgentCommands.toFixed(2)} per agent per s, Lua's inner calls included)  (target ≤ ${MAX_COMMANDS_PER_S})  ${verdict(perAgentCommands <= MAX_COMMANDS_PER_S)};` +
        ` Redis CPU ${(redisCpu * 100).toFixed(1)}% of a core`,
      `    by name, per agent per s: ${byName(before, after, seconds, options.agents)}`,
      ...(servers.length > 1 ? await perNode(servers, beforeEach, afterEach, seconds, options.agents) : []),
      `  agent processes' RSS: ${hostRss.toFixed(0)} MB together (${((hostRss / options.agents) * 1024).toFixed(0)} kB per agent), event-loop delay p99 ${ms(Math.max(...idleDelays.map((d) => d.p99)))} (worst process); Redis used_memory ${mib(await sum(servers, usedMemory))}; load average ${load()}`,
    );

    // 4. The app, its RSS sampled from here on.
    app = await startAppProcess({
      prefix,
      entry: join(ROOT, "dist/app/main.js"),
      env: { ...target.env, CCC_TASK_SECRET: secret, CCC_REPORTER: "off", LOG_LEVEL: "info", LOG_FORMAT: "json" },
    });
    const appStarted = Date.now();
    const rss: number[] = [];
    const pid = app.child.pid!;
    const sampler = setInterval(() => void vmRssMb(pid).then((mb) => mb !== undefined && rss.push(mb)), 250);
    try {
      // 5. Dispatch, each task timed from its job's add to the claim: one at a time, at a steady rate, all at once.
      await sleep(APP_SETTLE_MS);
      lines.push(
        `dispatch: job added → an idle agent's claim (the record's startedAt); beside it, added → fetched (BullMQ's processedOn: the marker's wake-up, the peek, moveToActive); app running`,
      );
      const timer = new DispatchTimer(redis, prefix, secret);
      try {
        const phases: Array<[string, DispatchPhase]> = [
          [`${options.sequential} one at a time`, { kind: "one-at-a-time", count: options.sequential }],
          [`${options.samples} at ${options.rate}/s`, { kind: "rate", count: options.samples, perSecond: options.rate }],
          [`${options.burst} at once`, { kind: "burst", count: options.burst }],
        ];
        for (const [label, phase] of phases) {
          if (phase.count === 0) continue;
          await hosts.loopDelay();
          const cpu0 = await sum(servers, redisCpuSeconds);
          const figures = await timer.run(phase);
          const delays = await hosts.loopDelay();
          const phaseCpu = ((await sum(servers, redisCpuSeconds)) - cpu0) / (figures.wallMs / 1000);
          const claim = summarise(figures.claimMs);
          const fetched = summarise(figures.fetchedMs);
          lines.push(
            `  ${label}: p50 ${ms(claim.p50)}, p99 ${ms(claim.p99)}, max ${ms(claim.max)}  (target p99 < ${P99_TARGET_MS} ms)  ${verdict(claim.p99 < P99_TARGET_MS)};` +
              ` fetched p50 ${ms(fetched.p50)}, p99 ${ms(fetched.p99)}; ${figures.agents} agents; ${(phase.count / (figures.wallMs / 1000)).toFixed(1)} claims/s first add → last claim;` +
              ` agent processes' event-loop delay p99 ${ms(Math.max(...delays.map((d) => d.p99)))} (worst process), max ${ms(Math.max(...delays.map((d) => d.max)))};` +
              ` Redis CPU ${(phaseCpu * 100).toFixed(0)}% of a core; load average ${load()}`,
          );
        }
      } finally {
        await timer.close();
      }

      // 6. The operators' views, with the backlog and every agent listed.
      while (Date.now() - appStarted < APP_RUN_MS) {
        await timed(() => scrape(app!));
        await sleep(2_000);
      }
      const metricsMs: number[] = [];
      for (let i = 0; i < 5; i++) metricsMs.push(await timed(() => scrape(app!)));
      const statusMs: number[] = [];
      const agentsMs: number[] = [];
      const statusInProcessMs: number[] = [];
      const quiet = { out: () => {}, err: () => {} };
      for (let i = 0; i < 3; i++) statusInProcessMs.push(await timed(async () => void (await statusCommand({ redis, prefix, output: quiet, json: true }))));
      for (let i = 0; i < 3; i++) {
        statusMs.push(await timed(() => cccStatus(target.env, prefix, options.backlog)));
        agentsMs.push(await timed(() => cccAgents(target.env, prefix, options.agents)));
      }
      clearInterval(sampler);
      const last = rss.slice(-20).sort((a, b) => a - b);
      const peak = Math.max(...rss);
      const metrics = summarise(metricsMs);
      const status = summarise(statusMs);
      lines.push(
        `app (node dist/app/main.js, CCC_REPORTER=off) after ${((Date.now() - appStarted) / 1000).toFixed(0)} s:`,
        `  RSS: peak ${peak.toFixed(0)} MB, steady ${(last[Math.floor(last.length / 2)] ?? Number.NaN).toFixed(0)} MB  (target ≤ ${RSS_TARGET_MB} MB)  ${verdict(peak <= RSS_TARGET_MB)}`,
        `  /metrics: p50 ${ms(metrics.p50)}, max ${ms(metrics.max)}  (target < ${METRICS_TARGET_MS} ms)  ${verdict(metrics.max < METRICS_TARGET_MS)}`,
        `  ccc status --json: p50 ${ms(status.p50)}, max ${ms(status.max)}  (target < ${STATUS_TARGET_MS} ms)  ${verdict(status.max < STATUS_TARGET_MS)};` +
          ` ccc agents --json (${options.agents + 1} agents listed): p50 ${ms(summarise(agentsMs).p50)}; both with node's start-up;` +
          ` the status command's own work (in process): p50 ${ms(summarise(statusInProcessMs).p50)}`,
        `machine: ${describeMachine()}; load average ${load()}`,
      );
    } finally {
      clearInterval(sampler);
    }
    return { name, lines };
  } finally {
    await app?.stop();
    await hosts?.stop();
    redis.disconnect();
    for (const server of servers) server.disconnect();
    await target.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

async function cccStatus(env: Record<string, string | undefined>, prefix: string, backlog: number): Promise<void> {
  const status = JSON.parse(await ccc(env, prefix, ["status", "--json"])) as { queues: Array<{ waiting: number }> };
  const waiting = status.queues.reduce((total, q) => total + q.waiting, 0);
  if (waiting !== backlog) throw new Error(`ccc status counted ${waiting} waiting jobs, not the backlog's ${backlog}`);
}

async function cccAgents(env: Record<string, string | undefined>, prefix: string, agents: number): Promise<void> {
  const listed = JSON.parse(await ccc(env, prefix, ["agents", "--json"])) as unknown[];
  if (listed.length < agents) throw new Error(`ccc agents listed ${listed.length} agents, not ${agents} and more`);
}

/** The agents' connections among those counted by name: every one but the bench's own. */
function agentsOnly(connections: Map<string, number>): number {
  return [...connections].filter(([shape]) => !shape.startsWith(OWN)).reduce((s, [, n]) => s + n, 0);
}

/** A cluster's figures node by node: the agents' connections and the commands each master ran in the window. */
async function perNode(
  servers: readonly Redis[],
  before: readonly ServerCounts[],
  after: readonly ServerCounts[],
  seconds: number,
  agents: number,
): Promise<string[]> {
  const lines = ["  per node (an agent connects to a node its commands, blocking read, control client or subscriber reach):"];
  for (const [i, server] of servers.entries()) {
    const connections = await connectionsByName([server]);
    const own = agentsOnly(connections);
    const processed = after[i]!.processed - before[i]!.processed - 2;
    lines.push(
      `    :${server.options.port}: ${own} agent connections (${(own / agents).toFixed(2)} per agent), ${(processed / seconds).toFixed(0)} commands/s (${(processed / seconds / agents).toFixed(3)} per agent per s);` +
        ` by name: ${
          [...connections]
            .filter(([shape]) => !shape.startsWith(OWN))
            .map(([shape, n]) => `${shape} ×${n}`)
            .join(", ") || "none"
        }`,
    );
  }
  return lines;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

function sleep(msToWait: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, msToWait));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchScale(scaleOptionsFromArgs(process.argv.slice(2)));
  console.log(`# ${result.name}\n${result.lines.join("\n")}`);
}
