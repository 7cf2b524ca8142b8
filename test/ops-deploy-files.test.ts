import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { ApiDeps } from "../src/api/api-deps.js";
import { controlRoutes } from "../src/api/routes/control-routes.js";
import { statusRoutes } from "../src/api/routes/status-routes.js";
import { taskRoutes } from "../src/api/routes/task-routes.js";
import { usageRoutes } from "../src/api/routes/usage-routes.js";
import { AppMetrics } from "../src/ops/metrics/app-metrics.js";
import { UsageMonitor } from "../src/ops/usage/usage-monitor.js";
import { TaskQueues } from "../src/queue/task-queues.js";
import { REPO_ROOT } from "./helpers/agent-process.js";
import { metricNames } from "./helpers/prometheus.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");

/** `ccc_*` names a PromQL expression uses, without the _bucket/_count/_sum of histograms. */
function usedMetrics(expr: string): string[] {
  return [...expr.matchAll(/\bccc_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ""));
}

describe("deployment files", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let exported: Set<string>;

  beforeAll(async () => {
    redis = connectRedis();
    const queues = new TaskQueues({ connection: redis, prefix });
    const metrics = new AppMetrics({
      redis,
      prefix,
      queues,
      usage: new UsageMonitor({ redis, prefix, budgets: [{ account: "team", usd: 10, window: "7d" }] }),
    });
    exported = metricNames(await metrics.text());
    await queues.close();
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("docker-compose runs the app and a Redis with AOF, noeviction and a required password, and hands the app the task secret", () => {
    const compose = parseYaml(read("docker-compose.yml"));
    const command = compose.services.redis.command.join(" ");
    expect(command).toContain("--appendonly yes");
    expect(command).toContain("--maxmemory-policy noeviction");
    expect(command).toMatch(/--requirepass \$\{REDIS_PASSWORD:\?[^}]+\}/);
    expect(compose.services.redis.environment.REDISCLI_AUTH).toBe("${REDIS_PASSWORD}");
    expect(compose.services.app.environment.REDIS_URL).toBe("redis://:${REDIS_PASSWORD}@redis:6379");
    expect(compose.services.app.environment.CCC_TASK_SECRET).toMatch(/^\$\{CCC_TASK_SECRET:\?[^}]+\}$/);
  });

  it("the systemd units start the compiled app and the installed agent and stop them with SIGTERM", () => {
    const app = read("deploy/systemd/ccc-app.service");
    expect(app).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/claude-code-cluster\/dist\/app\/main\.js$/m);
    expect(app).toContain("KillSignal=SIGTERM");
    const agent = read("deploy/systemd/ccc-agent.service");
    // The `ccc` that `npm install -g` put on the PATH: no checkout, no npx.
    expect(agent).toMatch(/^ExecStart=\/usr\/bin\/env ccc agent --name /m);
    expect(agent).not.toMatch(/opt\/claude-code-cluster|npx/);
    expect(agent).toContain("KillSignal=SIGTERM");
  });

  it("the systemd units and .env.example name CCC_TASK_SECRET where each process reads its settings", () => {
    expect(read("deploy/systemd/ccc-app.service")).toMatch(/CCC_TASK_SECRET[\s\S]*EnvironmentFile=\/etc\/ccc\/app\.env/);
    expect(read("deploy/systemd/ccc-agent.service")).toMatch(/CCC_TASK_SECRET[\s\S]*EnvironmentFile=\/etc\/ccc\/agent\.env/);
    expect(read(".env.example")).toMatch(/^CCC_TASK_SECRET=$/m);
  });

  it("the alert rules parse, cover the issue's cases, and use only metrics /metrics exports", () => {
    const rules = parseYaml(read("deploy/prometheus/alerts.yml")).groups.flatMap((g: { rules: unknown[] }) => g.rules) as Array<{
      alert: string;
      expr: string;
    }>;
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(["CccAgentDown", "CccSessionExpired", "CccQueueBacklog", "CccTaskFailureRate", "CccUsageNearBudget"]),
    );
    for (const rule of rules) for (const name of usedMetrics(rule.expr)) expect(exported, `${rule.alert} uses ${name}`).toContain(name);
  });

  it("the Grafana dashboard parses and every query names a metric /metrics exports", () => {
    const dashboard = JSON.parse(read("deploy/grafana/claude-code-cluster.json")) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(20);
    for (const { title, expr } of exprs) {
      const names = usedMetrics(expr);
      expect(names.length, `${title}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exported, `${title} uses ${name}`).toContain(name);
    }
  });

  it("docs/openapi.yaml parses and documents every /api/v1 route the app serves", () => {
    const spec = parseYaml(read("docs/openapi.yaml")) as { paths: Record<string, Record<string, unknown>> };
    // Building the routes reads nothing from deps; only their handlers do.
    const deps = {} as ApiDeps;
    const routes = [...statusRoutes(deps), ...taskRoutes(deps), ...controlRoutes(deps), ...usageRoutes(deps)];
    for (const route of routes) {
      const path = route.path.replace(/:(\w+)/g, "{$1}");
      expect(spec.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path}`).toBeDefined();
    }
    expect(Object.keys(spec.paths)).toHaveLength(new Set(routes.map((r) => r.path)).size);
  });
});
