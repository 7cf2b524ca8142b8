import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { waitFor } from "./agent-process.js";
import { makeCertificates } from "./redis-tls-server.js";

const run = promisify(execFile);

/** A Redis Cluster of this test's own: redis-server processes on loopback, `masters` of them and their replicas. */
export interface RedisCluster {
  /** `redis://127.0.0.1:<port>` of each node as created, masters first, for REDIS_CLUSTER_NODES. */
  nodes: string[];
  ports: number[];
  /** REDIS_CLUSTER_NODES for the processes: every node (and REDIS_PASSWORD, REDIS_TLS_CA when the cluster has them). */
  env: Record<string, string>;
  /** What `redis-cli` needs before `-p <port>` to reach a node: TLS and the password, when set. */
  cliArgs: string[];
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

/** A cluster over TLS only (certificates from a throwaway CA) and with a password on every node. */
export interface RedisClusterSecurity {
  tls?: boolean;
  password?: string;
}

/** The nodes' settings beyond security. */
export interface RedisClusterOptions extends RedisClusterSecurity {
  /** `--maxclients` of every node (Redis lowers it to what `ulimit -n` allows). @defaultValue Redis's own, 10000 */
  maxclients?: number;
}

/**
 * Starts `masters` nodes with `--cluster-enabled yes`, joins them with `redis-cli --cluster
 * create` (every slot covered) and waits for `cluster_state:ok` on each.
 */
export async function startRedisCluster(masters = 3, replicasPerMaster = 0, security: RedisClusterOptions = {}): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "ccc-redis-cluster-"));
  if (security.tls) await makeCertificates(dir);
  const cliArgs = [
    ...(security.tls ? ["--tls", "--cacert", join(dir, "ca.crt")] : []),
    ...(security.password ? ["-a", security.password, "--no-auth-warning"] : []),
  ];
  const nodeArgs = (port: number) => [
    ...(security.tls
      ? [
          "--port",
          "0",
          "--tls-port",
          String(port),
          "--tls-cluster",
          "yes",
          "--tls-replication",
          "yes",
          "--tls-cert-file",
          join(dir, "redis.crt"),
          "--tls-key-file",
          join(dir, "redis.key"),
          "--tls-ca-cert-file",
          join(dir, "ca.crt"),
          "--tls-auth-clients",
          "no",
        ]
      : ["--port", String(port)]),
    ...(security.password ? ["--requirepass", security.password, "--masterauth", security.password] : []),
    ...(security.maxclients ? ["--maxclients", String(security.maxclients)] : []),
  ];
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
            ...nodeArgs(port),
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
        async () => (await run("redis-cli", [...cliArgs, "-p", String(port), "ping"]).catch(() => ({ stdout: "" }))).stdout.trim() === "PONG",
        10_000,
      );
    }
    await run("redis-cli", [
      ...cliArgs,
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
        async () => (await run("redis-cli", [...cliArgs, "-p", String(port), "cluster", "info"])).stdout.includes("cluster_state:ok"),
        20_000,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const ca = security.tls ? await readFile(join(dir, "ca.crt"), "utf8") : undefined;
  const access = { ...(ca ? { tls: { ca } } : {}), ...(security.password ? { password: security.password } : {}) };
  const killed = new Set<number>();
  const ask = async (args: string[]): Promise<unknown> => {
    for (const port of ports.filter((p) => !killed.has(p))) {
      const probe = new Redis({ port, ...access, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
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
    nodes: ports.map((port) => `${security.tls ? "rediss" : "redis"}://127.0.0.1:${port}`),
    ports,
    env: {
      REDIS_CLUSTER_NODES: ports.map((port) => `${security.tls ? "rediss" : "redis"}://127.0.0.1:${port}`).join(","),
      ...(security.tls ? { REDIS_TLS_CA: join(dir, "ca.crt") } : {}),
      ...(security.password ? { REDIS_PASSWORD: security.password } : {}),
    },
    cliArgs,
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
      const probe = new Redis({ port: ports.find((p) => !killed.has(p)), ...access, lazyConnect: true, maxRetriesPerRequest: 1 });
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
