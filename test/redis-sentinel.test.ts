import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRedisTopology } from "../src/config/read-redis-topology.js";
import { connectRedis } from "../src/shared/connect-redis.js";
import { REPO_ROOT, waitFor } from "./helpers/agent-process.js";
import { runCccOnly } from "./helpers/ccc-cli.js";
import { appProcessEnv } from "./helpers/app-process.js";
import { freePort } from "./helpers/app-server.js";
import { randomPrefix } from "./helpers/redis.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { startSentinelSet, type SentinelSet } from "./helpers/redis-sentinel.js";

const REPO = "octo-org/hello";

const ccc = runCccOnly;

describe("Redis Sentinel: wrong settings", () => {
  let set: SentinelSet;
  beforeAll(async () => {
    set = await startSentinelSet();
  }, 60_000);
  afterAll(async () => {
    await set?.stop();
  });

  it.each([
    [
      "REDIS_URL and REDIS_SENTINELS both set",
      () => ({ ...set.env, REDIS_URL: "redis://127.0.0.1:6379" }),
      /^ccc: REDIS_URL and REDIS_SENTINELS are both set: unset REDIS_URL/,
    ],
    [
      "a malformed sentinel list",
      () => ({ REDIS_SENTINELS: "127.0.0.1" }),
      /^ccc: REDIS_SENTINELS is not a list of host:port \("127.0.0.1" is not one\): write it as host:port,host:port/,
    ],
    [
      "a master group the sentinels do not know",
      () => ({ ...set.env, REDIS_SENTINEL_NAME: "no-such-group" }),
      /^ccc: REDIS_SENTINEL_NAME "no-such-group" is not a master group the sentinels at 127\.0\.0\.1:\d+ monitor \(they monitor: mymaster\): set REDIS_SENTINEL_NAME to/,
    ],
    [
      "no sentinel answering",
      () => ({ REDIS_SENTINELS: "127.0.0.1:1" }),
      /^ccc: Redis is not reachable at sentinel master group "mymaster" via 127\.0\.0\.1:1 \(no sentinel answered: .*Start the sentinels/,
    ],
    [
      "an unreadable CA file",
      () => ({ ...set.env, REDIS_TLS_CA: "/nowhere/ca.pem" }),
      /^ccc: REDIS_TLS_CA \/nowhere\/ca\.pem cannot be read \(ENOENT\): set it to the path of the PEM file/,
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

  it("`ccc agent` with a group the sentinels do not know exits 1 too", async () => {
    const result = await ccc(["agent", "--name", "wrong-group", "--workdir", "/tmp"], {
      ...set.env,
      REDIS_SENTINEL_NAME: "no-such-group",
      CCC_TASK_SECRET: "x".repeat(40),
      CLAUDE_BIN: join(REPO_ROOT, "test/fake-claude/fake-claude.mjs"),
    });
    expect(result.stderr + result.stdout).toMatch(/REDIS_SENTINEL_NAME "no-such-group" is not a master group/);
    expect(result.code).toBe(1);
  }, 30_000);

  it("the app with a group the sentinels do not know exits 1 with the same line, and no password in it", async () => {
    const child = spawn(join(REPO_ROOT, "node_modules/.bin/tsx"), ["src/app/main.ts"], {
      cwd: REPO_ROOT,
      env: {
        ...appProcessEnv(randomPrefix(), await freePort(), { ...set.env, REDIS_URL: undefined, REDIS_SENTINEL_NAME: "no-such-group" }),
        REDIS_PASSWORD: "data-password-1234",
        REDIS_SENTINEL_PASSWORD: "sentinel-password-1234",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(output).toMatch(
      /REDIS_SENTINEL_NAME \\"no-such-group\\" is not a master group the sentinels at 127\.0\.0\.1:\d+ monitor \(they monitor: mymaster\)/,
    );
    expect(output).not.toMatch(/password-1234/);
    expect(code).toBe(1);
  }, 60_000);

  // Last: it swaps the set's primary and replica.
  // Sentinel kills the normal clients of the primary it demotes, so this is a reconnect, not the
  // READONLY answer that reconnectOnFailover covers (a demotion Sentinel did not make).
  it("a graceful failover (SENTINEL FAILOVER, the old primary demoted alive): a connected client follows it and its write lands on the new primary", async () => {
    const client = await connectRedis(readRedisTopology(set.env));
    client.on("error", () => {});
    try {
      await client.set("sentinel-test:before", "1");
      const sentinel = new Redis({ port: set.sentinelPorts[0]!, maxRetriesPerRequest: null });
      await sentinel.call("SENTINEL", "FAILOVER", set.name);
      sentinel.disconnect();
      await waitFor("the sentinels to name the replica", async () => (await set.primaryNow()) === set.replicaPort, 30_000);
      const demoted = new Redis({ port: set.primaryPort, maxRetriesPerRequest: null });
      await waitFor("the old primary to be a replica", async () => /role:slave/.test(await demoted.info("replication")), 30_000);
      demoted.disconnect();
      // The client's socket is still open to the old primary, which now refuses writes.
      await client.set("sentinel-test:after", "2");
      const primary = new Redis({ port: set.replicaPort, maxRetriesPerRequest: null });
      expect(await primary.get("sentinel-test:after")).toBe("2");
      primary.disconnect();
    } finally {
      client.disconnect();
    }
  }, 60_000);
});

describe("Redis Sentinel: the primary killed mid-run", () => {
  let set: SentinelSet;
  let cluster: Cluster;
  let holdFile: string;
  beforeAll(async () => {
    set = await startSentinelSet({ count: 3 });
    cluster = await startCluster({ redisEnv: set.env });
    holdFile = join(cluster.origin.dir, "..", `hold-${cluster.prefix}`);
    await cluster.startAgent({ name: "sentinel-agent", env: { FAKE_CLAUDE_HOLD_FILE: holdFile }, extraArgs: ["--concurrency", "3"] });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    await set?.stop();
  });

  it("every part follows the promoted replica: three tasks in flight end in one PR each, and issues labelled during and after the switch get theirs", async () => {
    const label = (number: number, deliveryId?: string) =>
      cluster.deliver("issues", labeledPayload("claude", { number, title: `Sentinel task ${number}`, cloneUrl: cluster.origin.url }), deliveryId);
    for (const number of [101, 102, 103]) expect((await label(number)).status).toBe(200);
    await waitFor(
      "three tasks running",
      async () => (await Promise.all([101, 102, 103].map((n) => cluster.store.get(`${REPO}#${n}`)))).every((r) => r?.state === "running"),
      60_000,
    );

    const probe = await connectRedis(readRedisTopology(set.env));
    probe.on("error", () => {});
    const killedAt = Date.now();
    await set.killPrimary();
    // Claude's runs end during the switch: their writes wait for the new primary.
    await writeFile(holdFile, "go");
    // A delivery during the switch: answered 2xx once enqueued, or 5xx and redelivered (as GitHub
    // does, with the same delivery id) until it is.
    const duringStatuses: number[] = [];
    const during = (async () => {
      for (;;) {
        const started = Date.now();
        const status = (await label(104, "during-the-switch")).status;
        duringStatuses.push(status);
        if (status < 300) return Date.now() - started;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    await probe.set(`${cluster.prefix}:failover-probe`, "written");
    const firstWriteMs = Date.now() - killedAt;
    const promotedMs = await waitFor(
      "the sentinels to name the replica",
      async () => (await set.primaryNow()) === set.replicaPort && Date.now() - killedAt,
      30_000,
    );
    probe.disconnect();
    const duringMs = await during;
    console.log(
      `failover: first successful write after the kill ${firstWriteMs} ms; sentinels named the replica by ${promotedMs} ms; ` +
        `the delivery during the switch answered ${duringStatuses.join(",")} (last answer ${duringMs} ms)`,
    );

    await waitFor(
      "the tasks in flight and the one labelled during the switch to end pr-open",
      async () => (await Promise.all([101, 102, 103, 104].map((n) => cluster.store.get(`${REPO}#${n}`)))).every((r) => r?.state === "pr-open"),
      90_000,
    );
    // A new issue labelled after the failover.
    expect((await label(105)).status).toBe(200);
    await waitFor("the issue labelled after the failover to end pr-open", async () => (await cluster.store.get(`${REPO}#105`))?.state === "pr-open", 60_000);

    const pulls = cluster.github.pulls(REPO);
    expect(pulls.map((p) => p.title).sort()).toEqual([101, 102, 103, 104, 105].map((n) => `Sentinel task ${n}`));
    expect(new Set(pulls.map((p) => p.head)).size).toBe(5);
    expect(await cluster.eventCounts()).toMatchObject({ failed: 0 });
  }, 240_000);

  it("`ccc doctor` says which primary the sentinels named", async () => {
    const result = await ccc(["doctor", "--json"], set.env);
    const checks = (JSON.parse(result.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
    expect(checks.find((c) => c.name === "redis topology")).toEqual({
      name: "redis topology",
      status: "ok",
      detail: `sentinel master group "mymaster" via ${set.env.REDIS_SENTINELS}: primary 127.0.0.1:${set.replicaPort}`,
    });
  }, 30_000);
});
