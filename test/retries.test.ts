import { describe, expect, it } from "vitest";
import { TaskQueues } from "../src/queue/task-queues.js";
import { renderTrackingComment } from "../src/reporter/render-tracking-comment.js";
import { waitFor } from "./helpers/agent-process.js";
import { intakeDeps } from "./helpers/intake.js";
import { enqueueDirect } from "./helpers/tasks.js";
import { useTestbed } from "./helpers/testbed.js";
import { TEST_TASK_SECRETS } from "./helpers/task-secret.js";

describe("retries", () => {
  // Short backoff so three attempts fit in a test; production waits 30 s, then 60 s.
  const bed = useTestbed({
    deps: (redis, prefix) => ({
      ...intakeDeps(redis, prefix),
      queues: new TaskQueues({ connection: redis, prefix, retryDelayMs: 200, secrets: TEST_TASK_SECRETS }),
    }),
  });

  it("a network failure is tried three times, shown as attempt n/3, then fails with the reason", async () => {
    await bed.startAgent({ name: "flaky-net", env: { FAKE_CLAUDE_SCENARIO: "network" } });
    const task = await enqueueDirect(bed.deps, { number: 91, cloneUrl: bed.origin.url });
    const record = await waitFor(
      "the task to fail",
      async () => {
        const r = await bed.deps.store.get(task.taskId);
        return r?.state === "failed" ? r : undefined;
      },
      30_000,
    );
    expect(record.attempt).toBe(3);
    expect(record.failure?.kind).toBe("network");
    expect(record.failure?.message).toMatch(/connect/i);
    expect(renderTrackingComment(record, Date.now())).toContain("attempt 3/3");
    await bed.stopAgents();
  }, 45_000);

  it("max turns fails at once, without a second attempt", async () => {
    await bed.startAgent({ name: "turns", env: { FAKE_CLAUDE_SCENARIO: "max-turns" } });
    const task = await enqueueDirect(bed.deps, { number: 92, cloneUrl: bed.origin.url });
    const record = await waitFor(
      "the task to fail",
      async () => {
        const r = await bed.deps.store.get(task.taskId);
        return r?.state === "failed" ? r : undefined;
      },
      20_000,
    );
    expect(record.attempt).toBe(1);
    expect(record.failure?.kind).toBe("max-turns");
    expect(renderTrackingComment(record, Date.now())).toContain("/claude retry");
  }, 30_000);
});
