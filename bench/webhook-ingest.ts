import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { pathToFileURL } from "node:url";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { Probot, Server, type ApplicationFunction } from "probot";
import { createApp } from "../src/app/create-app.js";
import { cachedLiveSpecialties } from "../src/app/live-specialties-cache.js";
import { connectRedis } from "../src/shared/connect-redis.js";
import { silentLogger } from "../src/shared/logger.js";
import { freePort, PRIVATE_KEY, WEBHOOK_SECRET } from "../test/helpers/app-server.js";
import { closeIntakeDeps, intakeDeps } from "../test/helpers/intake.js";
import { startFakeGitHub } from "../test/helpers/fake-github.js";
import { labeledPayload } from "../test/helpers/payloads.js";
import { startBenchRedis } from "./bench-redis.js";
import { countCommands } from "./count-commands.js";
import { timeIngestSteps } from "./ingest-steps.js";
import { runLoad, type LoadMode, type LoadResult } from "./load-client.js";
import { describeMachine } from "./machine.js";
import { ms, summarise, verdict } from "./stats.js";

export interface WebhookIngestOptions {
  /** Deliveries per app per closed-loop round (two rounds each, ABBA). @defaultValue 3000 */
  deliveries?: number;
  /** Concurrent clients in the closed loop. @defaultValue 8 */
  concurrency?: number;
  /** Open-loop rate. @defaultValue 100 */
  perSecond?: number;
  /** Open-loop duration. @defaultValue 10 */
  seconds?: number;
}

export const OWNER = "octo-org";
export const REPO = "hello";
const SENDER = "maintainer";
const THROUGHPUT_TARGET = 0.7;
const P99_TARGET_MS = 20;

/** The app's own handler replaced by one that does nothing: what Probot itself costs. */
const noopApp: ApplicationFunction = (app) => {
  app.on("issues.labeled", async () => {});
};

/**
 * Signed `issues.labeled` deliveries through Probot's real HTTP server to an enqueued task,
 * against a no-op Probot app on the same server code, both measured in this run.
 */
export async function benchWebhookIngest(options: WebhookIngestOptions = {}): Promise<{ name: string; lines: string[] }> {
  const deliveries = options.deliveries ?? 3000;
  const concurrency = options.concurrency ?? 8;
  const perSecond = options.perSecond ?? 100;
  const seconds = options.seconds ?? 10;
  const prefix = `ccc-bench-${randomBytes(4).toString("hex")}`;

  const benchRedis = await startBenchRedis();
  const github = await startFakeGitHub();
  const redis = await connectRedis(benchRedis.url);
  // As the app wires them (src/app/main.ts): live specialties cached for a second.
  const bare = intakeDeps(redis, prefix);
  const deps = { ...bare, liveSpecialties: cachedLiveSpecialties(bare.registry) };
  const stepPrefix = `${prefix}-steps`;
  const stepDeps = intakeDeps(redis, stepPrefix);
  const stops: Array<() => Promise<void>> = [];
  try {
    await warmCaches(redis, prefix);
    await warmCaches(redis, stepPrefix);
    const real = await startServer(createApp(deps), github.baseUrl);
    stops.push(real.stop);
    const noop = await startServer(noopApp, github.baseUrl);
    stops.push(noop.stop);

    let nextIssue = 1;
    let realDeliveries = 0;
    const statuses: Record<string, number> = {};
    const load = async (target: "real" | "noop", count: number, mode: LoadMode, repo = REPO): Promise<LoadResult> => {
      const result = await runLoad({
        url: target === "real" ? real.url : noop.url,
        secret: WEBHOOK_SECRET,
        owner: OWNER,
        repo,
        firstIssue: nextIssue,
        count,
        mode,
      });
      nextIssue += count;
      if (target === "real") realDeliveries += count;
      for (const [status, n] of Object.entries(result.statuses)) statuses[`${target} ${status}`] = (statuses[`${target} ${status}`] ?? 0) + n;
      return result;
    };

    // 0. Warm-up: JIT, sockets, BullMQ script loading. Not counted.
    await load("noop", 300, { kind: "closed", concurrency });
    await load("real", 300, { kind: "closed", concurrency });

    // 1. Closed loop, ABBA so that drift over the run (GC, Redis memory) hits both apps alike.
    // CPU of the app process, redis-server and the client is taken around each round: on a
    // small machine the three share the cores, and their sum per delivery bounds throughput.
    const closed = { real: [] as LoadResult[], noop: [] as LoadResult[] };
    const cpu = { real: { app: 0, redis: 0 }, noop: { app: 0, redis: 0 } };
    for (const target of ["noop", "real", "real", "noop"] as const) {
      const [app0, redis0] = [process.cpuUsage(), await redisCpuMs(redis)];
      closed[target].push(await load(target, deliveries, { kind: "closed", concurrency }));
      const app = process.cpuUsage(app0);
      cpu[target].app += (app.user + app.system) / 1000;
      cpu[target].redis += (await redisCpuMs(redis)) - redis0;
    }
    const cpuPerDelivery = (target: "real" | "noop") => {
      const n = closed[target].length * deliveries;
      const client = closed[target].reduce((s, r) => s + r.cpuMs, 0);
      return `app process ${ms(cpu[target].app / n)}, redis-server ${ms(cpu[target].redis / n)}, load client ${ms(client / n)}`;
    };
    const rate = (results: LoadResult[]) => (results.length * deliveries) / (results.reduce((s, r) => s + r.elapsedMs, 0) / 1000);
    const realRate = rate(closed.real);
    const noopRate = rate(closed.noop);
    const ratio = realRate / noopRate;

    // 2. Open loop at a fixed rate: the answer latency GitHub would see.
    const openCount = perSecond * seconds;
    const loadBefore = loadavg()[0]!;
    const openReal = await load("real", openCount, { kind: "open", perSecond });
    const openNoop = await load("noop", openCount, { kind: "open", perSecond });

    // 3. One at a time, counting the app's Redis round trips per delivery.
    const sequentialCount = 200;
    const counted = countCommands(redis);
    const sequential = await load("real", sequentialCount, { kind: "closed", concurrency: 1 });
    const commands = counted.stop();
    const sequentialNoop = await load("noop", sequentialCount, { kind: "closed", concurrency: 1 });
    const githubDuringRun = github.counts();

    // 3b. The same steps called directly, under a prefix of their own so the check below stays exact.
    const steps = await timeIngestSteps(stepDeps, { owner: OWNER, repo: REPO, sender: SENDER, baseUrl: github.baseUrl, firstIssue: 1, count: 500 });

    // 4. A repository with cold caches: the GitHub reads must reach the fake, never the internet.
    // The second probe finds the installation token cached in Probot's Octokit: only the two reads remain.
    const cold = await load("real", 1, { kind: "closed", concurrency: 1 }, "cold-repo");
    const coldRequests = [...github.counts()].map(([key, n]) => [key, n - (githubDuringRun.get(key) ?? 0)] as const).filter(([, n]) => n > 0);
    const cold2 = await load("real", 1, { kind: "closed", concurrency: 1 }, "cold-repo-2");

    // 5. Every delivery to the app must have become exactly one task and one queued job.
    const enqueued = await countTaskJobs(redis, prefix);
    const records = await countKeys(redis, `${prefix}:task:*`);

    const closedReal = summarise(closed.real.flatMap((r) => r.latenciesMs));
    const closedNoop = summarise(closed.noop.flatMap((r) => r.latenciesMs));
    const open = summarise(openReal.latenciesMs);
    const openBase = summarise(openNoop.latenciesMs);
    const lag = summarise([...openReal.sendLagMs, ...openNoop.sendLagMs]);
    const seq = summarise(sequential.latenciesMs);
    const seqNoop = summarise(sequentialNoop.latenciesMs);
    const perDelivery = (n: number) => (n / sequentialCount).toFixed(1);
    const githubTotal = [...githubDuringRun.values()].reduce((s, n) => s + n, 0);
    const roundRates = (results: LoadResult[]) => results.map((r) => `${Math.round(deliveries / (r.elapsedMs / 1000))}/s`).join(", ");

    return {
      name: "webhook-ingest",
      lines: [
        `what: signed issues.labeled deliveries (real @octokit/webhooks-examples payload, ${payloadBytes()} bytes) POSTed to Probot's Server on loopback until its answer;`,
        `      the ccc app (createApp with real TaskStore/TaskQueues/EventQueue/AgentRegistry on Redis) answers after the task is claimed and its BullMQ job added;`,
        `      the baseline is the same Server with a no-op issues.labeled handler. Each delivery: new issue number, new delivery id. Loggers silent in both.`,
        `steady state: caches warm (permission ${prefix}:perm:${OWNER}/${REPO}:${SENDER} and repo-config "missing file" marker pre-set, one live agent registered)`,
        `setup: ${benchRedis.description}; load client in a separate node process, keep-alive node:http Agent; fake GitHub API on ${github.baseUrl} as Probot baseUrl`,
        `closed loop, ${concurrency} clients, ${deliveries} deliveries per app per round, rounds no-op/ccc/ccc/no-op:`,
        `  no-op app: ${Math.round(noopRate)} deliveries/s [${roundRates(closed.noop)}]  answer p50 ${ms(closedNoop.p50)}, p99 ${ms(closedNoop.p99)}`,
        `  ccc app:   ${Math.round(realRate)} deliveries/s [${roundRates(closed.real)}]  answer p50 ${ms(closedReal.p50)}, p99 ${ms(closedReal.p99)}`,
        `  ccc / no-op throughput: ${ratio.toFixed(2)}  (target ≥ ${THROUGHPUT_TARGET})  ${verdict(ratio >= THROUGHPUT_TARGET)}`,
        `  CPU per delivery, no-op app: ${cpuPerDelivery("noop")}`,
        `  CPU per delivery, ccc app:   ${cpuPerDelivery("real")}`,
        `open loop, ${perSecond} deliveries/s for ${seconds} s (${openCount} each), latency from scheduled send to answer:`,
        `  ccc app:   p50 ${ms(open.p50)}, p99 ${ms(open.p99)}, max ${ms(open.max)}  (target p99 < ${P99_TARGET_MS} ms)  ${verdict(open.p99 < P99_TARGET_MS)}`,
        `  no-op app: p50 ${ms(openBase.p50)}, p99 ${ms(openBase.p99)}, max ${ms(openBase.max)}`,
        `  client's own send lag behind schedule: p50 ${ms(lag.p50)}, p99 ${ms(lag.p99)}; 1-min load average before: ${loadBefore.toFixed(2)} on ${cpus().length} cores`,
        `one at a time (${sequentialCount} each): ccc app answer p50 ${ms(seq.p50)}, p99 ${ms(seq.p99)}; no-op app p50 ${ms(seqNoop.p50)}, p99 ${ms(seqNoop.p99)}`,
        `  ccc app's Redis per delivery: ${perDelivery(commands.writes)} round trips (socket writes), ${perDelivery(commands.total)} commands` +
          ` (${[...commands.byName]
            .sort((a, b) => b[1] - a[1])
            .map(([name, n]) => `${name} ${perDelivery(n)}`)
            .join(", ")})`,
        `handler steps called directly, in handleLabeled's order (500 tasks, wall time per call, same Redis and warm caches):`,
        `  ${"step".padEnd(30)} ${"p50".padStart(8)} ${"mean".padStart(8)}   Redis`,
        ...steps.map((t) => `  ${t.step.padEnd(30)} ${ms(t.p50Ms).padStart(8)} ${ms(t.meanMs).padStart(8)}   ${t.redis}`),
        `  ${"sum".padEnd(30)} ${ms(steps.reduce((sum, t) => sum + t.p50Ms, 0)).padStart(8)} ${ms(steps.reduce((sum, t) => sum + t.meanMs, 0)).padStart(8)}`,
        `fake GitHub API requests during the measured phases: ${githubTotal}${githubTotal > 0 ? ` (${[...githubDuringRun].map(([k, n]) => `${k} ×${n}`).join(", ")})` : ""}`,
        `cold-cache probe (${OWNER}/cold-repo, nothing cached): answered ${Object.keys(cold.statuses).join("/")} in ${ms(cold.latenciesMs[0] ?? Number.NaN)}; fake GitHub got ${coldRequests.map(([k, n]) => `${k} ×${n}`).join(", ") || "nothing"}`,
        `  a second cold repository (token now cached, 2 reads): answered ${Object.keys(cold2.statuses).join("/")} in ${ms(cold2.latenciesMs[0] ?? Number.NaN)}; fake GitHub requests in all: ${github.requests.length}`,
        `check: ${realDeliveries} deliveries to the ccc app → ${records} task records, ${enqueued.total} queued jobs (${[...enqueued.byQueue].map(([q, n]) => `${q} ${n}`).join(", ")})` +
          `  ${verdict(enqueued.total === realDeliveries && records === realDeliveries)}; answers: ${Object.entries(statuses)
            .map(([k, n]) => `${k} ×${n}`)
            .join(", ")}`,
        `machine: ${describeMachine()}`,
      ],
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await closeIntakeDeps(deps).catch(() => {});
    await closeIntakeDeps(stepDeps).catch(() => {});
    await github.close();
    await deletePrefixKeys(redis, prefix);
    await deletePrefixKeys(redis, stepPrefix);
    redis.disconnect();
    await benchRedis.stop(prefix);
  }
}

function payloadBytes(): number {
  return Buffer.byteLength(JSON.stringify(labeledPayload("claude", { owner: OWNER, repo: REPO, number: 1 })));
}

interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** Probot's Server as in production (default ProbotOctokit, with retry and throttling), GitHub at `baseUrl`. */
export async function startServer(appFn: ApplicationFunction, baseUrl: string): Promise<RunningServer> {
  const port = await freePort();
  const server = new Server({
    Probot: Probot.defaults({ appId: 1, privateKey: PRIVATE_KEY, secret: WEBHOOK_SECRET, baseUrl, log: silentLogger }),
    host: "127.0.0.1",
    port,
    log: silentLogger,
  });
  await server.load(appFn);
  await server.start();
  return { url: `http://127.0.0.1:${port}/api/github/webhooks`, stop: () => server.stop() };
}

/** What a running cluster has in Redis: the caches filled by earlier deliveries, and an agent alive. */
export async function warmCaches(redis: Redis, prefix: string): Promise<void> {
  const hour = 3600;
  await redis.set(`${prefix}:perm:${OWNER}/${REPO}:${SENDER}`, "write", "EX", hour);
  // The marker load-repo-config.ts caches for "no .github/claude-cluster.yml".
  await redis.set(`${prefix}:repo-config:${OWNER}/${REPO}`, "\u0000missing", "EX", hour);
  const now = Date.now();
  await redis
    .multi()
    .set(
      `${prefix}:agent:bench-agent`,
      JSON.stringify({
        name: "bench-agent",
        host: "bench",
        account: "default",
        specialties: ["backend", "docs"],
        concurrency: 1,
        state: "idle",
        tasks: [],
        startedAt: now,
        lastSeen: now,
        version: "bench",
      }),
      "EX",
      hour,
    )
    .zadd(`${prefix}:agents`, now, "bench-agent")
    .exec();
}

/** Jobs on every task queue (`tasks-*`) in any state. */
async function countTaskJobs(redis: Redis, prefix: string): Promise<{ total: number; byQueue: Map<string, number> }> {
  const names = new Set<string>();
  for (const key of await scanKeys(redis, `${prefix}:tasks-*`)) names.add(key.slice(prefix.length + 1).split(":")[0]!);
  const byQueue = new Map<string, number>();
  for (const name of [...names].sort()) {
    const queue = new Queue(name, { connection: redis, prefix });
    const counts = await queue.getJobCounts("wait", "prioritized", "delayed", "active", "completed", "failed");
    await queue.close();
    byQueue.set(
      name,
      Object.values(counts).reduce((s, n) => s + n, 0),
    );
  }
  return { total: [...byQueue.values()].reduce((s, n) => s + n, 0), byQueue };
}

/** CPU seconds redis-server has used since it started (all its threads), in ms. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
  return (field("used_cpu_user") + field("used_cpu_sys")) * 1000;
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  return (await scanKeys(redis, pattern)).length;
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

async function deletePrefixKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await scanKeys(redis, `${prefix}:*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const deliveries = process.argv[2] ? Number(process.argv[2]) : undefined;
  const result = await benchWebhookIngest({ deliveries });
  console.log(`# ${result.name}\n${result.lines.join("\n")}`);
}
