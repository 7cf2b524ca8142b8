import { execFile, spawn } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, waitFor } from "./helpers/agent-process.js";
import { runCccOnly } from "./helpers/ccc-cli.js";
import { appProcessEnv } from "./helpers/app-process.js";
import { freePort } from "./helpers/app-server.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { randomPrefix, scanKeys } from "./helpers/redis.js";
import { startRedisCluster, type RedisCluster } from "./helpers/redis-cluster.js";

const run = promisify(execFile);
const REPO = "octo-org/hello";

const ccc = runCccOnly;

/** `redis-cli -p <port> <args>`'s answer from a node of `cluster`, trimmed. */
async function cli(cluster: RedisCluster, port: number, ...args: string[]): Promise<string> {
  return (await run("redis-cli", [...cluster.cliArgs, "-p", String(port), ...args])).stdout.trim();
}

type Check = { name: string; status: string; detail: string; fix?: string };
const doctorChecks = async (env: Record<string, string>): Promise<Check[]> =>
  (JSON.parse((await ccc(["doctor", "--json"], env)).stdout) as { checks: Check[] }).checks;

describe("Redis Cluster: wrong settings", () => {
  let redis: RedisCluster;
  beforeAll(async () => {
    redis = await startRedisCluster(3);
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it.each([
    [
      "REDIS_URL and REDIS_CLUSTER_NODES both set",
      () => ({ ...redis.env, REDIS_URL: "redis://127.0.0.1:6379" }),
      /^ccc: REDIS_URL and REDIS_CLUSTER_NODES are both set: unset REDIS_URL to use the Redis Cluster/,
    ],
    [
      "REDIS_SENTINELS and REDIS_CLUSTER_NODES both set",
      () => ({ ...redis.env, REDIS_SENTINELS: "127.0.0.1:26379" }),
      /^ccc: REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set: a Redis Cluster fails over by itself/,
    ],
    [
      "a node list that is not redis:// URLs",
      () => ({ REDIS_CLUSTER_NODES: "http://127.0.0.1:7000" }),
      /^ccc: REDIS_CLUSTER_NODES is not a list of redis:\/\/ URLs \("http:\/\/127.0.0.1:7000" starts with http:\/\/\): write it as redis:\/\//,
    ],
    [
      "a Redis without cluster support",
      () => ({ REDIS_CLUSTER_NODES: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" }),
      /^ccc: REDIS_CLUSTER_NODES names 127\.0\.0\.1:\d+, which is a Redis without cluster support \(cluster-enabled no\): set REDIS_URL=redis:\/\/127\.0\.0\.1:\d+ instead/,
    ],
    [
      "no node answering",
      () => ({ REDIS_CLUSTER_NODES: "redis://127.0.0.1:1" }),
      /^ccc: Redis is not reachable at Redis Cluster via 127\.0\.0\.1:1 \(no node answered: .*Start the cluster's nodes/,
    ],
  ])(
    "%s: `ccc status` exits 1 naming the variable and the fix",
    async (_, env, message) => {
      const result = await ccc(["status"], env());
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.code).toBe(1);
    },
    30_000,
  );

  it("the app with REDIS_URL and REDIS_CLUSTER_NODES both set exits 1 with the same line", async () => {
    const child = spawn(join(REPO_ROOT, "node_modules/.bin/tsx"), ["src/app/main.ts"], {
      cwd: REPO_ROOT,
      env: { ...appProcessEnv(randomPrefix(), await freePort(), { ...redis.env, REDIS_URL: "redis://127.0.0.1:6379" }) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(output).toMatch(/REDIS_URL and REDIS_CLUSTER_NODES are both set/);
    expect(code).toBe(1);
  }, 60_000);

  it("a cluster that leaves slots uncovered: `ccc status` exits 1 with the fix and `ccc doctor` fails its cluster check; covered again, both pass", async () => {
    const [first] = redis.ports;
    await cli(redis, first!, "CLUSTER", "DELSLOTS", "100", "101");
    try {
      await waitFor("the cluster to say it is down", async () => (await cli(redis, first!, "CLUSTER", "INFO")).includes("cluster_state:fail"), 20_000);
      const status = await ccc(["status"], redis.env);
      expect(status.stderr).toMatch(
        /^ccc: REDIS_CLUSTER_NODES: the Redis Cluster does not cover every hash slot \(127\.0\.0\.1:\d+ says cluster_state:fail, 16382 of 16384 slots assigned\): assign the rest \(`redis-cli --cluster fix 127\.0\.0\.1:\d+`\)/,
      );
      expect(status.code).toBe(1);
      const doctor = await ccc(["doctor", "--json"], redis.env);
      expect(doctor.code).toBe(1);
      const checks = (JSON.parse(doctor.stdout) as { checks: Check[] }).checks;
      expect(checks.find((c) => c.name === "redis cluster")).toMatchObject({
        status: "fail",
        detail: expect.stringMatching(/^cluster_state:fail, 16382 of 16384 slots served, /),
        fix: expect.stringMatching(/^the Redis Cluster does not cover every hash slot/),
      });
    } finally {
      await cli(redis, first!, "CLUSTER", "ADDSLOTS", "100", "101");
    }
    await waitFor("the cluster to be whole again", async () => (await cli(redis, first!, "CLUSTER", "INFO")).includes("cluster_state:ok"), 20_000);
    expect((await ccc(["status"], redis.env)).code).toBe(0);
    expect((await doctorChecks(redis.env)).find((c) => c.name === "redis cluster")).toMatchObject({
      status: "ok",
      detail: "cluster_state:ok, 16384 of 16384 slots served, 3 masters, 3 nodes",
    });
  }, 60_000);
});

describe("Redis Cluster: through the processes", () => {
  let redis: RedisCluster;
  let cluster: Cluster;
  let holdFile: string;
  /** The hash slot of every key the cluster writes, and where it started. */
  let slot: number;
  beforeAll(async () => {
    redis = await startRedisCluster(3, 1);
    cluster = await startCluster({ redisEnv: redis.env });
    holdFile = join(cluster.origin.dir, "..", `hold-${cluster.prefix.replace(/[{}]/g, "")}`);
    // Runs go through until a test removes the file.
    await writeFile(holdFile, "go");
    await cluster.startAgent({ name: "cluster-agent", env: { FAKE_CLAUDE_HOLD_FILE: holdFile }, extraArgs: ["--concurrency", "3"] });
    slot = Number(await cli(redis, redis.ports[0]!, "CLUSTER", "KEYSLOT", cluster.prefix));
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
  }, 120_000);

  const label = (number: number, deliveryId?: string) =>
    cluster.deliver("issues", labeledPayload("claude", { number, title: `Cluster task ${number}`, cloneUrl: cluster.origin.url }), deliveryId);
  const states = async (numbers: number[]) => Promise.all(numbers.map(async (n) => (await cluster.store.get(`${REPO}#${n}`))?.state));

  it("a labelled issue ends in its PR, and every key the cluster wrote is in the one hash slot of {CCC_PREFIX}", async () => {
    expect(cluster.prefix).toMatch(/^\{ccc-test-[0-9a-f]+\}$/);
    expect((await label(201)).status).toBe(200);
    await waitFor("the task to end pr-open", async () => (await states([201]))[0] === "pr-open", 90_000);
    expect(cluster.github.pulls(REPO).map((p) => p.title)).toEqual(["Cluster task 201"]);

    const keys = await scanKeys(cluster.redis, "*");
    const ours = keys.filter((key) => key.startsWith(`${cluster.prefix}:`));
    // The task's record, its BullMQ queues and events, the agent's registry entry, at least.
    expect(ours.length).toBeGreaterThan(10);
    expect(keys.filter((key) => !key.startsWith(`${cluster.prefix}:`))).toEqual([]);
    const slots = await Promise.all(ours.map(async (key) => Number(await cluster.redis.call("CLUSTER", "KEYSLOT", key))));
    expect(new Set(slots)).toEqual(new Set([slot]));
  }, 120_000);

  it("an idle agent holds at most 4 connections on any node, its commands and its blocking wait on the keys' master", async () => {
    const master = await redis.masterOf(slot);
    const connections = () =>
      Promise.all(
        redis.ports.map(async (port) => ({
          port,
          names: (await cli(redis, port, "CLIENT", "LIST"))
            .split("\n")
            .map((line) => /name=(\S+)/.exec(line)?.[1] ?? "")
            .filter((name) => name.includes("ccc-agent:cluster-agent")),
        })),
      );
    await waitFor("the agent to wait for work", async () => (await connections()).some((node) => node.names.some((name) => name.endsWith(":fetch"))), 30_000);
    const byNode = await connections();
    const all = byNode.flatMap((node) => node.names);
    console.log(`idle agent on a 3+3 cluster: ${all.length} connections, per node ${byNode.map((node) => node.names.length).join(",")}`);
    // Its three clients (commands, the fetch loop's BZPOPMIN, the control channel) and the control
    // channel's subscriber: ioredis opens at most one connection per node for each.
    for (const node of byNode) expect(node.names.length).toBeLessThanOrEqual(4);
    const onMaster = byNode.find((node) => node.port === master)!.names;
    expect(onMaster).toEqual(expect.arrayContaining(["ccc-agent:cluster-agent", "ccc-agent:cluster-agent:fetch"]));
    expect(all.filter((name) => name.startsWith("ioredis-cluster(subscriber):") && name.endsWith(":control"))).toHaveLength(1);
  }, 30_000);

  it("`ccc doctor` checks the cluster's state and slot coverage and says where the keys live", async () => {
    const env = { ...redis.env, CCC_PREFIX: cluster.prefix };
    const checks = await doctorChecks(env);
    expect(checks.find((c) => c.name === "redis cluster")).toEqual({
      name: "redis cluster",
      status: "ok",
      detail: "cluster_state:ok, 16384 of 16384 slots served, 3 masters, 6 nodes",
    });
    expect(checks.find((c) => c.name === "redis topology")?.detail).toMatch(/^Redis Cluster via (127\.0\.0\.1:\d+,?){6}: 3 masters, 3 replicas$/);
    expect(checks.find((c) => c.name === "redis keys")?.detail).toBe(`${cluster.prefix}: hash slot ${slot}, on 127.0.0.1:${await redis.masterOf(slot)}`);
  }, 60_000);

  it("the keys' slot moved to another master mid-run (ASK, then MOVED): three tasks in flight end in one PR each", async () => {
    await rm(holdFile, { force: true });
    for (const number of [211, 212, 213]) expect((await label(number)).status).toBe(200);
    await waitFor("three tasks running", async () => (await states([211, 212, 213])).every((s) => s === "running"), 60_000);

    const from = await redis.masterOf(slot);
    const masters = [...new Set(await Promise.all([0, 6000, 12000].map((s) => redis.masterOf(s))))];
    const to = masters.find((port) => port !== from)!;
    const fromId = await cli(redis, from, "CLUSTER", "MYID");
    const toId = await cli(redis, to, "CLUSTER", "MYID");
    await cli(redis, to, "CLUSTER", "SETSLOT", String(slot), "IMPORTING", fromId);
    await cli(redis, from, "CLUSTER", "SETSLOT", String(slot), "MIGRATING", toId);
    // Half the keys now, so commands meet ASK redirects while the runs end; the rest after.
    const firstBatch = (await cli(redis, from, "CLUSTER", "GETKEYSINSLOT", String(slot), "20")).split("\n").filter(Boolean);
    await cli(redis, from, "MIGRATE", "127.0.0.1", String(to), "", "0", "5000", "KEYS", ...firstBatch);
    await writeFile(holdFile, "go");
    for (;;) {
      const batch = (await cli(redis, from, "CLUSTER", "GETKEYSINSLOT", String(slot), "100")).split("\n").filter(Boolean);
      if (batch.length === 0) break;
      await cli(redis, from, "MIGRATE", "127.0.0.1", String(to), "", "0", "5000", "KEYS", ...batch);
    }
    for (const port of masters) await cli(redis, port, "CLUSTER", "SETSLOT", String(slot), "NODE", toId);
    await waitFor("every node to say the slot moved", async () => (await redis.masterOf(slot)) === to, 20_000);

    await waitFor("the three tasks to end pr-open", async () => (await states([211, 212, 213])).every((s) => s === "pr-open"), 90_000);
    expect((await label(214)).status).toBe(200);
    await waitFor("an issue labelled after the move to end pr-open", async () => (await states([214]))[0] === "pr-open", 60_000);
    const pulls = cluster.github.pulls(REPO).filter((p) => /Cluster task 21\d/.test(p.title));
    expect(pulls.map((p) => p.title).sort()).toEqual([211, 212, 213, 214].map((n) => `Cluster task ${n}`));
    expect(new Set(pulls.map((p) => p.head)).size).toBe(4);
    expect(await cluster.eventCounts()).toMatchObject({ failed: 0 });
  }, 240_000);

  it("the master serving the keys killed mid-run: its replica takes over, three tasks in flight end in one PR each, and an issue labelled after gets its PR", async () => {
    await rm(holdFile, { force: true });
    for (const number of [221, 222, 223]) expect((await label(number)).status).toBe(200);
    await waitFor("three tasks running", async () => (await states([221, 222, 223])).every((s) => s === "running"), 60_000);

    const master = await redis.masterOf(slot);
    const killedAt = Date.now();
    await redis.kill(master);
    await writeFile(holdFile, "go");
    // A delivery during the switch: answered 2xx once enqueued, or 5xx and redelivered (as GitHub
    // does, with the same delivery id) until it is.
    const statuses: number[] = [];
    for (;;) {
      const status = (await label(224, "during-the-cluster-failover")).status;
      statuses.push(status);
      if (status < 300) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const promotedMs = await waitFor("a replica to serve the slot", async () => (await redis.masterOf(slot)) !== master && Date.now() - killedAt, 30_000);
    console.log(`cluster failover: the replica served the slot by ${promotedMs} ms; the delivery during the switch answered ${statuses.join(",")}`);

    await waitFor(
      "the tasks in flight and the one labelled during the switch to end pr-open",
      async () => (await states([221, 222, 223, 224])).every((s) => s === "pr-open"),
      120_000,
    );
    expect((await label(225)).status).toBe(200);
    await waitFor("the issue labelled after the failover to end pr-open", async () => (await states([225]))[0] === "pr-open", 60_000);
    const pulls = cluster.github.pulls(REPO).filter((p) => /Cluster task 22\d/.test(p.title));
    expect(pulls.map((p) => p.title).sort()).toEqual([221, 222, 223, 224, 225].map((n) => `Cluster task ${n}`));
    expect(new Set(pulls.map((p) => p.head)).size).toBe(5);
    expect(await cluster.eventCounts()).toMatchObject({ failed: 0 });
  }, 300_000);
});

describe("Redis Cluster over TLS, with a password", () => {
  let redis: RedisCluster;
  let cluster: Cluster;
  beforeAll(async () => {
    redis = await startRedisCluster(3, 0, { tls: true, password: "cluster-password-for-this-test" });
    cluster = await startCluster({ redisEnv: redis.env });
    await cluster.startAgent({ name: "tls-cluster-agent" });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
  }, 120_000);

  it("a labelled issue ends in its PR, every node reached over TLS with the password", async () => {
    expect(redis.env.REDIS_CLUSTER_NODES).toMatch(/^rediss:\/\//);
    const delivered = await cluster.deliver("issues", labeledPayload("claude", { number: 301, title: "TLS cluster task", cloneUrl: cluster.origin.url }));
    expect(delivered.status).toBe(200);
    await waitFor("the task to end pr-open", async () => (await cluster.store.get(`${REPO}#301`))?.state === "pr-open", 90_000);
    expect(cluster.github.pulls(REPO).map((p) => p.title)).toEqual(["TLS cluster task"]);
    const checks = await doctorChecks({ ...redis.env, CCC_PREFIX: cluster.prefix });
    expect(checks.find((c) => c.name === "redis topology")?.detail).toMatch(/^Redis Cluster via .* over TLS: 3 masters, 0 replicas$/);
    expect(checks.find((c) => c.name === "redis cluster")?.status).toBe("ok");
  }, 120_000);

  it("a wrong password: `ccc status` exits 1 naming REDIS_PASSWORD, and never prints it", async () => {
    const result = await ccc(["status"], { ...redis.env, REDIS_PASSWORD: "wrong-password-1234" });
    expect(result.stderr).toMatch(
      /^ccc: Redis is not reachable at Redis Cluster via .* over TLS \(.*(WRONGPASS|invalid username-password).*Check REDIS_USERNAME and REDIS_PASSWORD/,
    );
    expect(result.stderr).not.toMatch(/wrong-password-1234|cluster-password-for-this-test/);
    expect(result.code).toBe(1);
  }, 30_000);

  it("without the CA: `ccc status` exits 1", async () => {
    const { REDIS_TLS_CA: _, ...withoutCa } = redis.env;
    const result = await ccc(["status"], withoutCa);
    expect(result.stderr).toMatch(/^ccc: Redis is not reachable at Redis Cluster via/);
    expect(result.code).toBe(1);
  }, 30_000);
});
