import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { waitFor } from "./agent-process.js";
import { freePort } from "./app-server.js";
import { startCluster, type Cluster } from "./cluster.js";

/** A redis-server of this test's own, with AOF as docs/operations.md asks for production; `extraArgs` e.g. `--replicaof`. */
export async function startRedis(port: number, dir: string, extraArgs: string[] = []): Promise<ChildProcess> {
  const server = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
      ...extraArgs,
    ],
    { stdio: "ignore" },
  );
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
  probe.on("error", () => {});
  await probe.connect().catch(() => {});
  await waitFor("redis-server to answer", async () => (await probe.ping().catch(() => "")) === "PONG", 10_000);
  probe.disconnect();
  return server;
}

export async function stopRedis(server: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  await exited;
}

/** A cluster on a redis-server of its own with AOF, and a lone agent logging its Claude runs. */
export interface AofCluster {
  cluster: Cluster;
  /** The agent's FAKE_CLAUDE_RUN_LOG. */
  runLog: string;
  /** Stops the redis-server (SIGTERM: the AOF is flushed) and starts it again on the same port and files. */
  restartRedis(): Promise<void>;
}

/**
 * Started before the enclosing `describe`'s tests and stopped after them, like `useCluster`; the
 * object is filled in by then. `env` goes to the app process.
 */
export function useAofCluster(options: { env: Record<string, string>; agent: string }): AofCluster {
  const holder = {} as AofCluster;
  let dir: string | undefined;
  let server: ChildProcess | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-aof-"));
    const port = await freePort();
    server = await startRedis(port, dir);
    const cluster = await startCluster({ redisUrl: `redis://127.0.0.1:${port}`, env: options.env });
    const runLog = join(dir, "runs.jsonl");
    await cluster.startAgent({ name: options.agent, env: { FAKE_CLAUDE_RUN_LOG: runLog } });
    Object.assign(holder, {
      cluster,
      runLog,
      restartRedis: async () => {
        await stopRedis(server!);
        server = await startRedis(port, dir!);
      },
    });
  }, 60_000);
  afterAll(async () => {
    await holder.cluster?.stop();
    if (server) await stopRedis(server);
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return holder;
}
