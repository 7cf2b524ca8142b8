import { beforeAll, describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor } from "./helpers/agent-process.js";
import { useCluster, type Cluster } from "./helpers/cluster.js";
import { scanKeys } from "./helpers/redis.js";
import { labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";
/** A real idle gap on top of the cache expiry, for runs by hand: `CCC_IDLE_GAP_SECONDS=180 npx vitest run test/idle-app.test.ts`. */
const EXTRA_GAP_MS = Number(process.env.CCC_IDLE_GAP_SECONDS ?? 0) * 1000;

/** Every key in the Redis, whoever wrote it; the test Redis is this suite's own. */
const allKeys = (cluster: Cluster, pattern: string) => scanKeys(cluster.redis, pattern);

describe("an app left idle", () => {
  // Caches expire after a second, so the idle gap outlasts every one of them.
  const cluster = useCluster({ env: { CCC_PERMISSION_CACHE_SECONDS: "1", CCC_CONFIG_CACHE_SECONDS: "1" } });
  beforeAll(async () => {
    await cluster.startAgent({ name: "idle-pc" });
  }, 60_000);

  const prOpen = (number: number) => async (): Promise<TaskRecord | undefined> => {
    const record = await cluster.store.get(`${REPO}#${number}`);
    return record?.state === "pr-open" ? record : undefined;
  };

  it(
    "answers the next webhook and writes to GitHub after every cache and limiter state has expired",
    async () => {
      expect((await cluster.deliver("issues", labeledPayload("claude", { number: 91, title: "Before the gap", cloneUrl: cluster.origin.url }))).status).toBe(
        200,
      );
      await waitFor("the first PR", prOpen(91), 40_000);

      // GitHub rate limits are handled in process: nothing of a limiter lives in Redis to expire
      // (Probot's Redis-backed Bottleneck keys, `b_*`, expired after two idle minutes and broke
      // every later write on Redis 7).
      expect(await allKeys(cluster, "b_*")).toEqual([]);
      const idleFrom = Date.now();
      await waitFor(
        "the permission and config caches to expire",
        async () => (await allKeys(cluster, `${cluster.prefix}:perm:*`)).length + (await allKeys(cluster, `${cluster.prefix}:repo-config:*`)).length === 0,
      );
      if (EXTRA_GAP_MS > 0) await waitFor(`a real idle gap of ${EXTRA_GAP_MS} ms`, async () => Date.now() - idleFrom >= EXTRA_GAP_MS, EXTRA_GAP_MS + 10_000);

      const before = cluster.github.requests.length;
      const response = await cluster.deliver("issues", labeledPayload("claude", { number: 92, title: "After the gap", cloneUrl: cluster.origin.url }));
      expect(response.status).toBe(200);
      await waitFor("the second PR", prOpen(92), 40_000);
      // The permission was asked again: the caches had really expired.
      expect(cluster.github.requests.slice(before).some((r) => r.path.endsWith("/collaborators/maintainer/permission"))).toBe(true);
      expect(cluster.github.requests.slice(before).filter((r) => r.status >= 500)).toEqual([]);
      console.info(`figure: idle gap survived: ${Date.now() - idleFrom} ms`);
    },
    60_000 + EXTRA_GAP_MS,
  );
});
