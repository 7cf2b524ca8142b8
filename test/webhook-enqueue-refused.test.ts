import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/agent-process.js";
import { freePort } from "./helpers/app-server.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { startRedis, stopRedis } from "./helpers/redis-server.js";

const REPO = "octo-org/hello";

/*
 * While Redis refuses writes (out of memory here) or is away (a failover, a restart), a delivery
 * the app could not enqueue is answered 5xx, never 2xx, and its redelivery with the same
 * delivery id is taken once Redis writes again: no delivery is lost.
 */
describe("a delivery the app could not enqueue", () => {
  let dir: string;
  let server: ChildProcess;
  let admin: Redis;
  let cluster: Cluster;
  let port: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-refused-"));
    port = await freePort();
    server = await startRedis(port, dir);
    admin = new Redis({ port, maxRetriesPerRequest: null });
    admin.on("error", () => {});
    cluster = await startCluster({ redisUrl: `redis://127.0.0.1:${port}` });
    // This test stops Redis on purpose; ioredis would print each reconnect attempt otherwise.
    cluster.redis.on("error", () => {});
  }, 60_000);
  afterAll(async () => {
    await admin?.config("SET", "maxmemory", "0").catch(() => {});
    await cluster?.stop();
    admin?.disconnect();
    if (server) await stopRedis(server);
    await rm(dir, { recursive: true, force: true });
  });

  it("is answered 5xx, and its redelivery is enqueued once Redis takes writes again", async () => {
    const payload = labeledPayload("claude", { number: 301, cloneUrl: cluster.origin.url });
    await admin.config("SET", "maxmemory", "1");
    const refused = await cluster.deliver("issues", payload, "refused-delivery");
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(await cluster.store.get(`${REPO}#301`)).toBeUndefined();

    await admin.config("SET", "maxmemory", "0");
    const redelivered = await cluster.deliver("issues", payload, "refused-delivery");
    expect(redelivered.status).toBe(200);
    expect(await cluster.store.get(`${REPO}#301`)).toMatchObject({ state: "queued" });
  }, 60_000);

  it("while Redis is away longer than the wait, is answered 503 (not Probot's 202) with nothing written, and its redelivery is enqueued once Redis is back", async () => {
    const payload = labeledPayload("claude", { number: 302, cloneUrl: cluster.origin.url });
    await stopRedis(server);
    const started = Date.now();
    const refused = await cluster.deliver("issues", payload, "while-redis-is-away");
    const waitedMs = Date.now() - started;
    server = await startRedis(port, dir);
    expect(refused.status).toBe(503);
    expect(waitedMs).toBeLessThan(9_000);

    const redelivered = await waitFor("the app to take the redelivery", async () => {
      const response = await cluster.deliver("issues", payload, "while-redis-is-away");
      return response.status === 200 && response;
    });
    expect(redelivered.status).toBe(200);
    expect(await cluster.store.get(`${REPO}#302`)).toMatchObject({ state: "queued" });
  }, 60_000);
});
