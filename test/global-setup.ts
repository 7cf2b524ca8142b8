import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The tests get a Redis of their own when redis-server is installed, so they never touch a
 * Redis they did not start and can restart it in fault tests. Set REDIS_URL to use another.
 */
let redis: ChildProcess | undefined;
let dir: string | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPing(port: number): Promise<void> {
  const { Redis } = await import("ioredis");
  for (let i = 0; i < 100; i++) {
    const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch {
      client.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`the test redis-server on port ${port} did not answer`);
}

export async function setup(): Promise<void> {
  if (process.env.REDIS_URL) return;
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), "ccc-test-redis-"));
  redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
  const failed = await new Promise<boolean>((resolve) => {
    redis!.once("error", () => resolve(true));
    setTimeout(() => resolve(false), 100);
  });
  if (failed) {
    // No redis-server binary: fall back to the machine's Redis; tests still use their own key prefix.
    redis = undefined;
    process.env.REDIS_URL = "redis://127.0.0.1:6379";
    return;
  }
  await waitForPing(port);
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
}

export async function teardown(): Promise<void> {
  redis?.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
}
