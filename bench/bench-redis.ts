import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "../test/helpers/app-server.js";
import { deletePrefix } from "../test/helpers/redis.js";

export interface BenchRedis {
  url: string;
  /** "own redis-server 7.x on port N" or "shared Redis at URL (own key prefix)". */
  description: string;
  /** Deletes the bench's keys (shared Redis) and stops the server it started. */
  stop(prefix: string): Promise<void>;
}

/**
 * A private redis-server on a free loopback port, without persistence, so a bench neither
 * disturbs nor is disturbed by other users of the machine's Redis. Falls back to REDIS_URL
 * (or 127.0.0.1:6379) when redis-server is not installed; callers use a random key prefix either way.
 */
export async function startBenchRedis(options: { maxclients?: number } = {}): Promise<BenchRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "ccc-bench-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
  // Redis's default of 10,000 clients, itself capped by the open-files limit it was started under.
  if (options.maxclients !== undefined) args.push("--maxclients", String(options.maxclients));
  const child: ChildProcess = spawn("redis-server", args, { stdio: "ignore" });
  const spawned = await new Promise<boolean>((resolve) => {
    child.once("error", () => resolve(false));
    child.once("spawn", () => resolve(true));
  });
  if (!spawned) {
    await rm(dir, { recursive: true, force: true });
    const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    return {
      url,
      description: `shared Redis at ${url} (redis-server not installed; bench keys under a random prefix)`,
      stop: async (prefix) => {
        const redis = new Redis(url, { maxRetriesPerRequest: null });
        try {
          await deletePrefix(redis, prefix);
        } finally {
          redis.disconnect();
        }
      },
    };
  }
  const url = `redis://127.0.0.1:${port}`;
  const version = await waitForRedis(url);
  return {
    url,
    description: `own redis-server ${version} on 127.0.0.1:${port}, no persistence${options.maxclients !== undefined ? `, maxclients ${options.maxclients}` : ""}`,
    stop: async () => {
      const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      if (child.exitCode === null) child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForRedis(url: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      await client.connect();
      const info = await client.info("server");
      return /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`the bench's redis-server at ${url} did not answer within 5 s`);
}
