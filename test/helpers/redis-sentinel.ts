import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { waitFor } from "./agent-process.js";
import { freePort } from "./app-server.js";
import { startRedis } from "./redis-server.js";

/** A primary, a replica and sentinels of this test's own on free loopback ports. */
export interface SentinelSet {
  /** The master group's name. */
  name: string;
  primaryPort: number;
  replicaPort: number;
  sentinelPorts: number[];
  /** The settings every process reads: `REDIS_SENTINELS`, `REDIS_SENTINEL_NAME`. */
  env: Record<string, string>;
  /** The port the sentinels name as the primary now. */
  primaryNow(): Promise<number>;
  /** SIGKILL to the primary: no shutdown, no last write. Resolves when it is gone. */
  killPrimary(): Promise<void>;
  /** Stops every process left (by pid) and removes the files. */
  stop(): Promise<void>;
}

async function startSentinel(port: number, dir: string, name: string, primaryPort: number): Promise<ChildProcess> {
  // Sentinel rewrites its config file, so each gets a writable one of its own.
  const config = join(dir, `sentinel-${port}.conf`);
  await writeFile(
    config,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 3000`,
      "",
    ].join("\n"),
  );
  const sentinel = spawn("redis-server", [config, "--sentinel"], { stdio: "ignore" });
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
  probe.on("error", () => {});
  await probe.connect().catch(() => {});
  await waitFor("redis-sentinel to answer", async () => (await probe.ping().catch(() => "")) === "PONG", 10_000);
  probe.disconnect();
  return sentinel;
}

/**
 * `redis-server --port P`, `redis-server --port R --replicaof 127.0.0.1 P` and `count`
 * sentinels monitoring P with quorum 1, down after 1 s, failover timeout 3 s. Resolves once the
 * replica is in sync and every sentinel knows it (a failover before that has no one to promote).
 */
export async function startSentinelSet(options: { count?: 1 | 3; name?: string } = {}): Promise<SentinelSet> {
  const name = options.name ?? "mymaster";
  const dir = await mkdtemp(join(tmpdir(), "ccc-sentinel-"));
  const [primaryDir, replicaDir] = [join(dir, "primary"), join(dir, "replica")];
  await Promise.all([primaryDir, replicaDir].map((d) => mkdir(d)));
  const processes: ChildProcess[] = [];
  const primaryPort = await freePort();
  const replicaPort = await freePort();
  const primary = await startRedis(primaryPort, primaryDir);
  processes.push(primary);
  processes.push(await startRedis(replicaPort, replicaDir, ["--replicaof", "127.0.0.1", String(primaryPort)]));
  const sentinelPorts: number[] = [];
  for (let i = 0; i < (options.count ?? 1); i++) {
    const port = await freePort();
    sentinelPorts.push(port);
    processes.push(await startSentinel(port, dir, name, primaryPort));
  }
  const replica = new Redis({ port: replicaPort, maxRetriesPerRequest: null });
  await waitFor("the replica to be in sync", async () => /master_link_status:up/.test(await replica.info("replication")), 20_000);
  replica.disconnect();
  const sentinels = sentinelPorts.map((port) => new Redis({ port, maxRetriesPerRequest: null }));
  await waitFor(
    "every sentinel to know the replica",
    async () => (await Promise.all(sentinels.map((s) => s.call("SENTINEL", "REPLICAS", name) as Promise<unknown[]>))).every((r) => r.length > 0),
    20_000,
  );
  const primaryNow = async () => {
    const [, port] = (await sentinels[0]!.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)) as [string, string];
    return Number(port);
  };
  return {
    name,
    primaryPort,
    replicaPort,
    sentinelPorts,
    env: { REDIS_SENTINELS: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(","), REDIS_SENTINEL_NAME: name },
    primaryNow,
    killPrimary: async () => {
      const exited = new Promise((resolve) => primary.once("exit", resolve));
      primary.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      for (const sentinel of sentinels) sentinel.disconnect();
      await Promise.all(
        processes
          .filter((child) => child.exitCode === null && child.signalCode === null)
          .map((child) => {
            const exited = new Promise((resolve) => child.once("exit", resolve));
            child.kill("SIGKILL");
            return exited;
          }),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
}
