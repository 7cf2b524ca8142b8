import { execFile, spawn } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CCC_BIN, REPO_ROOT, waitFor } from "./helpers/agent-process.js";
import { appProcessEnv } from "./helpers/app-process.js";
import { freePort } from "./helpers/app-server.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { randomPrefix, scanKeys } from "./helpers/redis.js";
import { startRedisCluster, type RedisCluster } from "./helpers/redis-cluster.js";

const run = promisify(execFile);
const REPO = "octo-org/hello";

/** `ccc <args>` as a process with only these Redis settings; its exit code and what it wrote. */
async function ccc(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CCC_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stdout, stderr };
}

/** `redis-cli -p <port> <args>`'s answer, trimmed. */
async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run("redis-cli", ["-p", String(port), ...args])).stdout.trim();
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
    await cli(first!, "CLUSTER", "DELSLOTS", "100", "101");
    try {
      await waitFor("the cluster to say it is down", async () => (await cli(first!, "CLUSTER", "INFO")).includes("cluster_state:fail"), 20_000);
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
      await cli(first!, "CLUSTER", "ADDSLOTS", "100", "101");
    }
    await waitFor("the cluster to be whole again", async () => (await cli(first!, "CLUSTER", "INFO")).includes("cluster_state:ok"), 20_000);
    expect((await ccc(["status"], redis.env)).code).toBe(0);
    expect((await doctorChecks(redis.env)).find((c) => c.name === "redis cluster")).toMatchObject({
      status: "ok",
      detail: "cluster_state:ok, 16384 of 16384 slots served, 3 masters, 3 nodes",
    });
  }, 60_000);
});
