import { describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor } from "./helpers/agent-process.js";
import { startAppProcess } from "./helpers/app-process.js";
import { useCluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { REDIS_URL } from "./helpers/redis.js";

const REPO = "octo-org/hello";

describe("the app restarted while its lone agent works", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1" } });

  it("loses nothing: the agent pushes while the app is down, and the restarted app opens the one PR", async () => {
    const state = (check: (r: TaskRecord) => boolean) => async () => {
      const record = await cluster.store.get(`${REPO}#99`);
      return record && check(record) ? record : undefined;
    };
    await cluster.startAgent({ name: "steady", env: { FAKE_CLAUDE_DELAY_MS: "3000" } });
    expect(
      (await cluster.deliver("issues", labeledPayload("claude", { number: 99, title: "Through an app restart", cloneUrl: cluster.origin.url }))).status,
    ).toBe(200);
    await waitFor(
      "the run",
      state((r) => r.state === "running" && r.agent === "steady"),
    );

    expect(await cluster.app.stop()).toBe(0);
    // With no app, the agent finishes and its pushed event waits in Redis.
    await waitFor(
      "the agent's push",
      state((r) => r.result !== undefined),
      30_000,
    );
    expect(cluster.github.pulls(REPO)).toEqual([]);

    const again = await startAppProcess({ prefix: cluster.prefix, env: { ...cluster.github.env, REDIS_URL, CCC_RECONCILE_SECONDS: "1" } });
    try {
      await waitFor(
        "the PR from the restarted app",
        state((r) => r.state === "pr-open"),
        30_000,
      );
      expect(cluster.github.pulls(REPO)).toHaveLength(1);
      await waitFor("the tracking comment at pr-open", async () =>
        cluster.github
          .comments(REPO, 99)
          .find((c) => c.user.type === "Bot")
          ?.body.includes("**Pull request opened**"),
      );
      expect(cluster.github.comments(REPO, 99).filter((c) => c.user.type === "Bot")).toHaveLength(1);
    } finally {
      await again.stop();
    }
  }, 90_000);
});
