import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./helpers/app-server.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { startRedis, stopRedis } from "./helpers/redis-server.js";

const REPO = "octo-org/hello";

/*
 * While Redis refuses writes (out of memory here; a demoted primary or a switch in progress
 * alike), a delivery the app could not enqueue is answered 5xx, never 2xx, and its redelivery
 * with the same delivery id is taken once Redis writes again: no delivery is lost.
 */
describe("a delivery the app could not enqueue", () => {
  let dir: string;
  let server: ChildProcess;
  let admin: Redis;
  let cluster: Cluster;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-refused-"));
    const port = await freePort();
    server = await startRedis(port, dir);
    admin = new Redis({ port, maxRetriesPerRequest: null });
    cluster = await startCluster({ redisUrl: `redis://127.0.0.1:${port}` });
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
});
