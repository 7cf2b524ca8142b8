import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { waitFor } from "./agent-process.js";

const run = promisify(execFile);

/** A Redis Cluster of this test's own: redis-server processes on loopback, `masters` of them and their replicas. */
export interface RedisCluster {
  /** `redis://127.0.0.1:<port>` of each node as created, masters first, for REDIS_CLUSTER_NODES. */
  nodes: string[];
  ports: number[];
  /** REDIS_CLUSTER_NODES for the processes: every node. */
  env: Record<string, string>;
  /** The port of the master that serves `slot` now, as a live node sees it. */
  masterOf(slot: number): Promise<number>;
  /** SIGKILLs the node on `port`, as a crash would. */
  kill(port: number): Promise<void>;
  /** `CLUSTER INFO` of the first node that answers. */
  info(): Promise<string>;
  /** Stops every node by its pid and removes their files. */
  stop(): Promise<void>;
}

/** Whether `port` can be bound on loopback now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await bindable(port)) && (await bindable(port + 10_000))) {
      taken.add(port).add(port + 10_000);
      return port;
    }
  }
  throw new Error("no free port pair for a cluster node");
}

/**
 * Starts `masters` nodes with `--cluster-enabled yes`, joins them with `redis-cli --cluster
 * create` (every slot covered) and waits for `cluster_state:ok` on each.
 */
export async function startRedisCluster(masters = 3, replicasPerMaster = 0): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "ccc-redis-cluster-"));
  const taken = new Set<number>();
  const ports: number[] = [];
  const servers: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (server.exitCode !== null || server.signalCode !== null) return resolve();
            server.once("exit", () => resolve());
            server.kill("SIGTERM");
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
      const port = await clusterPort(taken);
      ports.push(port);
      servers.push(
        spawn(
          "redis-server",
          [
            "--port",
            String(port),
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            `nodes-${port}.conf`,
            "--cluster-node-timeout",
            "2000",
            "--dir",
            dir,
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
          ],
          { stdio: "ignore" },
        ),
      );
    }
    for (const port of ports) {
      await waitFor(
        `cluster node ${port} to answer`,
        async () => (await run("redis-cli", ["-p", String(port), "ping"]).catch(() => ({ stdout: "" }))).stdout.trim() === "PONG",
        10_000,
      );
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      String(replicasPerMaster),
      "--cluster-yes",
    ]);
    for (const port of ports) {
      await waitFor(
        `cluster node ${port} to say cluster_state:ok`,
        async () => (await run("redis-cli", ["-p", String(port), "cluster", "info"])).stdout.includes("cluster_state:ok"),
        20_000,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const killed = new Set<number>();
  const ask = async (args: string[]): Promise<unknown> => {
    for (const port of ports.filter((p) => !killed.has(p))) {
      const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      probe.on("error", () => {});
      try {
        await probe.connect();
        return await probe.call(args[0]!, ...args.slice(1));
      } catch {
        // The next live node.
      } finally {
        probe.disconnect();
      }
    }
    throw new Error("no cluster node answers");
  };
  return {
    nodes: ports.map((port) => `redis://127.0.0.1:${port}`),
    ports,
    env: { REDIS_CLUSTER_NODES: ports.map((port) => `redis://127.0.0.1:${port}`).join(",") },
    masterOf: async (slot) => {
      const shards = (await ask(["CLUSTER", "SLOTS"])) as Array<[number, number, [string, number]]>;
      const shard = shards.find(([from, to]) => slot >= from && slot <= to);
      if (!shard) throw new Error(`no master serves slot ${slot}`);
      return Number(shard[2][1]);
    },
    kill: async (port) => {
      const server = servers[ports.indexOf(port)];
      if (!server) throw new Error(`no node on port ${port}`);
      killed.add(port);
      await new Promise<void>((resolve) => {
        if (server.exitCode !== null || server.signalCode !== null) return resolve();
        server.once("exit", () => resolve());
        server.kill("SIGKILL");
      });
    },
    info: async () => {
      const probe = new Redis({ port: ports.find((p) => !killed.has(p)), lazyConnect: true, maxRetriesPerRequest: 1 });
      probe.on("error", () => {});
      try {
        await probe.connect();
        return String(await probe.call("cluster", "info"));
      } finally {
        probe.disconnect();
      }
    },
    stop,
  };
}
