import { UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { ClusterControl } from "../src/store/cluster-control.js";
import { UsageStore } from "../src/store/usage-store.js";
import { taskQueueName } from "../src/queue/task-queues.js";
import { waitFor } from "./helpers/agent-process.js";
import { deliver } from "./helpers/app-server.js";
import { startAppProcess, type AppProcess } from "./helpers/app-process.js";
import { startFakeGitHub, type FakeGitHub } from "./helpers/fake-github.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { examplePayload, shapeIssuePayload } from "./helpers/payloads.js";
import { parseMetrics, sampleValue } from "./helpers/prometheus.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { enqueueDirect } from "./helpers/tasks.js";

describe("the app process: /metrics and the control API on real Redis", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let github: FakeGitHub;
  let app: AppProcess;

  const metrics = async () => {
    const response = await app.request("/metrics");
    expect(response.status).toBe(200);
    return parseMetrics(await response.text());
  };
  const json = async (path: string, options?: Parameters<AppProcess["request"]>[1]) => {
    const response = await app.request(path, options);
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    redis = connectRedis();
    deps = intakeDeps(redis, prefix);
    github = await startFakeGitHub();
    app = await startAppProcess({ prefix, env: { GHE_HOST: github.host, GHE_PROTOCOL: "http", CCC_BUDGETS: "team=10", CCC_USAGE_CHECK_SECONDS: "1" } });
  }, 40_000);

  afterAll(async () => {
    await app?.stop();
    await github?.close();
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("health answers anyone; the API, /metrics and the controls need the right bearer token", async () => {
    expect((await app.request("/api/v1/health", { token: null })).status).toBe(200);
    for (const token of [null, "wrong-token-wrong-token-wrong"]) {
      for (const [path, method] of [
        ["/api/v1/queues", "GET"],
        ["/api/v1/tasks", "GET"],
        ["/metrics", "GET"],
        ["/api/v1/stop", "POST"],
      ] as const) {
        const response = await app.request(path, { token, method });
        expect(response.status, `${method} ${path} with ${token ?? "no token"}`).toBe(401);
        expect(response.headers.get("www-authenticate")).toMatch(/Bearer/);
      }
    }
    expect((await new ClusterControl(redis, prefix).get()).mode).toBe("running");
  });

  it("ready checks Redis and GitHub, and the GitHub call shows in /metrics with the rate limit left", async () => {
    const ready = await json("/api/v1/ready", { token: null });
    expect(ready).toEqual({ status: 200, body: { status: "ready", redis: { ok: true }, github: { ok: true } } });
    expect(github.requests.some((r) => r.method === "GET" && r.path === "/app")).toBe(true);
    const samples = await metrics();
    expect(sampleValue(samples, "ccc_github_requests_total", { method: "GET", status: "200" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, "ccc_github_rate_limit_remaining", { resource: "core" })).toBe(4321);
  });

  it("queued tasks raise the queue depth in /metrics and the API, and a cancel through the API lowers it", async () => {
    const before = await metrics();
    expect(sampleValue(before, "ccc_queue_jobs", { queue: "tasks-general", state: "waiting" })).toBe(0);
    await enqueueDirect(deps, { number: 1, cloneUrl: "file:///nowhere" });
    await enqueueDirect(deps, { number: 2, cloneUrl: "file:///nowhere" });

    const after = await metrics();
    expect(sampleValue(after, "ccc_queue_jobs", { queue: "tasks-general", state: "waiting" })).toBe(2);
    expect(sampleValue(after, "ccc_queue_waiting_jobs", { queue: "tasks-general", priority: "normal" })).toBe(2);
    expect(sampleValue(after, "ccc_tasks", { state: "queued", specialty: "general" })).toBe(2);

    const queues = await json("/api/v1/queues");
    expect(queues.body.queues.find((q: { queue: string }) => q.queue === "tasks-general")).toMatchObject({ waiting: 2, byPriority: { normal: 2 } });
    const tasks = await json("/api/v1/tasks?state=queued");
    expect(tasks.body.tasks.map((t: { taskId: string }) => t.taskId).sort()).toEqual(["octo-org/hello#1", "octo-org/hello#2"]);
    const detail = await json("/api/v1/tasks/octo-org/hello/1");
    expect(detail.body).toMatchObject({
      task: { taskId: "octo-org/hello#1", state: "queued", issueUrl: "https://github.com/octo-org/hello/issues/1" },
      job: { state: "prioritized" },
    });
    expect((await json("/api/v1/tasks/octo-org/hello/99")).status).toBe(404);

    const cancelled = await json("/api/v1/tasks/octo-org/hello/1/cancel", { method: "POST" });
    expect(cancelled).toEqual({ status: 200, body: { taskId: "octo-org/hello#1", outcome: "cancelled" } });
    expect((await json("/api/v1/tasks/octo-org/hello/1/cancel", { method: "POST" })).status).toBe(409);
    const last = await metrics();
    expect(sampleValue(last, "ccc_queue_jobs", { queue: "tasks-general", state: "waiting" })).toBe(1);
    expect(sampleValue(last, "ccc_tasks", { state: "cancelled", specialty: "general" })).toBe(1);
  });

  it("a failed task shows under errors and a retry through the API queues run 2 on the same branch", async () => {
    const data = await enqueueDirect(deps, { number: 3, cloneUrl: "file:///nowhere", title: "Fix the flaky test" });
    // Another queue's consumer would take task 2; take only #3 here, the way an agent fails it.
    const worker = new Worker(
      taskQueueName("general"),
      async (job) => {
        if (job.data.taskId !== data.taskId) throw new Error("not this test's job");
        await deps.store.update(data.taskId, {
          state: "failed",
          failure: { kind: "max-turns", message: "Claude stopped at the max turns limit" },
          finishedAt: Date.now(),
        });
        throw new UnrecoverableError("max-turns");
      },
      { connection: redis.duplicate(), prefix, autorun: false },
    );
    await deps.store.update("octo-org/hello#2", { state: "cancelled" });
    await deps.queues.removeWaiting(taskQueueName("general"), "octo-org/hello#2@1");
    worker.run().catch(() => {});
    await waitFor("the task to fail", async () => (await deps.store.get(data.taskId))?.state === "failed");
    await worker.close();

    const errors = await json("/api/v1/errors");
    expect(errors.body.errors[0]).toMatchObject({ taskId: data.taskId, kind: "max-turns" });
    const retried = await json("/api/v1/tasks/octo-org/hello/3/retry", { method: "POST" });
    expect(retried).toEqual({ status: 200, body: { status: "queued", taskId: data.taskId, run: 2, specialty: "general", queue: "tasks-general" } });
    const job = await deps.queues.queue("tasks-general").getJob("octo-org/hello#3@2");
    expect(job?.data).toMatchObject({ run: 2, branch: data.branch, issue: { title: "Fix the flaky test" } });
    expect((await deps.store.get(data.taskId))?.state).toBe("queued");
    expect((await json("/api/v1/tasks/octo-org/hello/3/retry", { method: "POST" })).status).toBe(409);
  });

  it("a live agent and its Claude usage show up, and spending near the budget raises an alert", async () => {
    await deps.registry.heartbeat(
      {
        name: "pc-1",
        host: "box",
        account: "team",
        specialties: ["backend"],
        concurrency: 1,
        state: "busy",
        tasks: ["octo-org/hello#3"],
        startedAt: Date.now(),
        lastSeen: Date.now(),
        version: "t",
      },
      30,
    );
    const usage = new UsageStore(redis, prefix);
    for (const cost of [4, 5])
      await usage.record({
        at: Date.now() - 1000,
        agent: "pc-1",
        account: "team",
        taskId: "octo-org/hello#3",
        costUsd: cost,
        turns: 7,
        durationMs: 60_000,
        outcome: "success",
      });

    const samples = await metrics();
    expect(sampleValue(samples, "ccc_agent_up", { agent: "pc-1", account: "team" })).toBe(1);
    expect(sampleValue(samples, "ccc_agents", { state: "busy" })).toBe(1);
    expect(sampleValue(samples, "ccc_claude_cost_usd", { agent: "pc-1", window: "1h" })).toBe(9);
    expect(sampleValue(samples, "ccc_claude_turns", { agent: "pc-1", window: "24h" })).toBe(14);
    expect(sampleValue(samples, "ccc_budget_used_ratio", { account: "team" })).toBe(0.9);
    expect(sampleValue(samples, "ccc_budget_level", { account: "team" })).toBe(1);

    const alerts = await waitFor("the usage alert", async () => {
      const report = await json("/api/v1/usage");
      return report.body.alerts.length > 0 ? report.body : undefined;
    });
    expect(alerts.alerts[0]).toMatchObject({ account: "team", level: "warning" });
    expect(alerts.alerts[0].message).toContain("$9.00 of its $10 budget per 7d");
    expect(alerts.budgets[0].forecast).toMatchObject({ spentUsd: 9, level: "warning" });
    // The monitor stores the alert, then logs it: the API can show it a moment before the line is out.
    await waitFor("the alert's log line", async () => app.output().includes('"alert":"usage-budget"'));
    expect(sampleValue(await metrics(), "ccc_usage_alerts_total", { account: "team", level: "warning" })).toBe(1);
    expect((await json("/api/v1/agents")).body.agents[0]).toMatchObject({ name: "pc-1", state: "busy" });
  });

  it("pause, resume and stop through the API set the cluster's state, and /metrics shows it", async () => {
    const control = new ClusterControl(redis, prefix);
    expect((await json("/api/v1/pause", { method: "POST", body: { by: "ops-test" } })).body.control).toMatchObject({ mode: "paused", by: "api (ops-test)" });
    expect((await control.get()).mode).toBe("paused");
    expect(sampleValue(await metrics(), "ccc_cluster_mode", { mode: "paused" })).toBe(1);
    await json("/api/v1/stop", { method: "POST" });
    expect((await control.get()).mode).toBe("stopped");
    await json("/api/v1/resume", { method: "POST" });
    expect((await control.get()).mode).toBe("running");
    expect((await json("/api/v1/pause", { method: "POST", body: { by: 42 } })).status).toBe(400);
    expect((await json("/api/v1/pause")).status).toBe(405);
  });

  it("webhook deliveries are counted by event and outcome", async () => {
    const url = `${app.base}/api/github/webhooks`;
    const payload = shapeIssuePayload(examplePayload("issues", "opened"), {});
    expect((await deliver(url, "issues", payload)).status).toBe(200);
    const forged = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": "forged", "x-hub-signature-256": "sha256=00" },
      body: JSON.stringify(payload),
    });
    expect(forged.status).toBeGreaterThanOrEqual(400);
    const samples = await metrics();
    expect(sampleValue(samples, "ccc_webhook_deliveries_total", { event: "issues", outcome: "ok" })).toBe(1);
    expect(sampleValue(samples, "ccc_webhook_deliveries_total", { event: "issues", outcome: "error" })).toBe(1);
    expect(sampleValue(samples, "ccc_webhook_duration_seconds_count", { event: "issues" })).toBe(2);
  });
});

describe("the control API's token rule at start", () => {
  const prefix = randomPrefix();

  it("without CCC_API_TOKEN the app refuses to start and says how to fix it", async () => {
    await expect(startAppProcess({ prefix, env: { CCC_API_TOKEN: undefined } })).rejects.toThrow(/CCC_API_TOKEN is not set[\s\S]*openssl rand -hex 32/);
  });

  it("loopback-only runs the API without a token on 127.0.0.1, and refuses other interfaces", async () => {
    // The refusal and the warning name the setting whole: the log redaction leaves them alone.
    await expect(startAppProcess({ prefix, env: { CCC_API_TOKEN: undefined, CCC_API_ALLOW_NO_TOKEN: "loopback-only", HOST: "0.0.0.0" } })).rejects.toThrow(
      /CCC_API_ALLOW_NO_TOKEN set to loopback-only needs the app to listen on loopback/,
    );
    const app = await startAppProcess({ prefix, env: { CCC_API_TOKEN: undefined, CCC_API_ALLOW_NO_TOKEN: "loopback-only" } });
    try {
      expect((await app.request("/api/v1/control", { token: null })).status).toBe(200);
      expect(app.output()).toContain("(CCC_API_ALLOW_NO_TOKEN set to loopback-only): anyone on this host can steer the cluster");
    } finally {
      await app.stop();
    }
  });
});
