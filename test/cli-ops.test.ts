import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { UsageStore } from "../src/store/usage-store.js";
import { CCC_BIN, FAKE_CLAUDE, REPO_ROOT } from "./helpers/agent-process.js";
import { PRIVATE_KEY } from "./helpers/app-server.js";
import { startAppProcess, type AppProcess } from "./helpers/app-process.js";
import { startFakeGitHub, type FakeGitHub } from "./helpers/fake-github.js";
import { createOrigin, type Origin } from "./helpers/git-origin.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { enqueueDirect } from "./helpers/tasks.js";

describe("ccc tasks | usage | pause | resume | stop | retry | doctor against the app's Redis", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let app: AppProcess;
  let origin: Origin;
  let github: FakeGitHub;
  let home: string;

  function ccc(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CCC_BIN, ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, CCC_PREFIX: prefix, CLAUDE_BIN: FAKE_CLAUDE, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.once("exit", (code) => resolve({ code, stdout, stderr }));
    });
  }
  const control = async () => ((await (await app.request("/api/v1/control")).json()) as { control: { mode: string; by?: string } }).control;

  beforeAll(async () => {
    redis = connectRedis();
    deps = intakeDeps(redis, prefix);
    [app, origin, github, home] = await Promise.all([startAppProcess({ prefix }), createOrigin(), startFakeGitHub(), mkdtemp(join(tmpdir(), "ccc-home-"))]);
  }, 40_000);

  afterAll(async () => {
    await app?.stop();
    await origin?.cleanup();
    await github?.close();
    if (home) await rm(home, { recursive: true, force: true });
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("`tasks --json` lists the queued tasks and `--state` filters; the table is for people", async () => {
    await enqueueDirect(deps, { number: 5, cloneUrl: origin.url, title: "Five" });
    await enqueueDirect(deps, { number: 6, cloneUrl: origin.url, title: "Six" });
    await deps.store.update("octo-org/hello#6", { state: "failed", failure: { kind: "max-turns", message: "stopped at the max turns limit" } });

    const all = await ccc(["tasks", "--json"]);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout).tasks.map((t: { taskId: string }) => t.taskId)).toEqual(["octo-org/hello#6", "octo-org/hello#5"]);
    const queued = JSON.parse((await ccc(["tasks", "--state", "queued", "--json"])).stdout);
    expect(queued.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(["octo-org/hello#5"]);
    const table = await ccc(["tasks"]);
    expect(table.stdout).toMatch(/TASK\s+STATE/);
    expect(table.stdout).toContain("max-turns: stopped at the max turns limit");
    const bad = await ccc(["tasks", "--state", "done"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--state <state>' argument 'done' is invalid. Allowed choices are queued, running");
  });

  it("`usage --json` reports windows per account and agent, and the budget from CCC_BUDGETS", async () => {
    await new UsageStore(redis, prefix).record({
      at: Date.now() - 60_000,
      agent: "pc-1",
      account: "team",
      taskId: "octo-org/hello#5",
      costUsd: 2.5,
      turns: 9,
      durationMs: 1000,
      outcome: "success",
    });
    const result = await ccc(["usage", "--json"], { CCC_BUDGETS: "team=5/5h" });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.accounts[0]).toMatchObject({ account: "team", windows: { "1h": { costUsd: 2.5, turns: 9, runs: 1, tasks: 1 } } });
    expect(report.agents[0].agent).toBe("pc-1");
    expect(report.budgets[0]).toMatchObject({ account: "team", usd: 5, window: "5h", forecast: { spentUsd: 2.5 } });
    expect((await ccc(["usage"], { CCC_BUDGETS: "team=5/5h" })).stdout).toMatch(/BUDGET\s+WINDOW/);
  });

  it("`pause`, `stop` and `resume` change the state the app's API reports", async () => {
    const paused = await ccc(["pause", "--json"]);
    expect(JSON.parse(paused.stdout).control.mode).toBe("paused");
    expect(await control()).toMatchObject({ mode: "paused", by: expect.stringMatching(/^ccc \(/) });
    expect((await ccc(["stop"])).stdout).toContain("Stopped");
    expect((await control()).mode).toBe("stopped");
    await ccc(["resume"]);
    expect((await control()).mode).toBe("running");
  });

  it("`retry` refuses a live task and a malformed target, with exit codes a script can use", async () => {
    const live = await ccc(["retry", "octo-org/hello#5", "--json"]);
    expect(live.code).toBe(1);
    expect(JSON.parse(live.stdout)).toMatchObject({ taskId: "octo-org/hello#5", status: "already-live", state: "queued" });
    const bad = await ccc(["retry", "hello#5"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("owner/repo#number");
  });

  it("`doctor` passes with a logged-in claude, git access and a valid app key, and fails naming the fix for a missing login", async () => {
    const appEnv = { APP_ID: "1", PRIVATE_KEY, WEBHOOK_SECRET: "s", GHE_HOST: github.host, GHE_PROTOCOL: "http" };
    const good = await ccc(["doctor", "--json", "--repo", origin.url], appEnv);
    const report = JSON.parse(good.stdout) as { ok: boolean; checks: Array<{ name: string; status: string; fix?: string }> };
    const status = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
    expect(status).toMatchObject({
      "redis version": "ok",
      "redis maxmemory-policy": "ok",
      "claude binary": "ok",
      "claude login": "ok",
      "git credentials": "ok",
      "github app settings": "ok",
      "github app auth": "ok",
    });
    expect(good.code).toBe(0);

    // The real CLI with an empty HOME is not logged in: it says so at once, offline.
    const bad = await ccc(["doctor", "--repo", join(origin.dir, "missing.git")], {
      CLAUDE_BIN: join(REPO_ROOT, "node_modules/.bin/claude"),
      HOME: home,
      ANTHROPIC_API_KEY: undefined,
      PRIVATE_KEY: "not a key",
      APP_ID: "1",
      WEBHOOK_SECRET: "s",
    });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/claude login\s+FAIL/);
    expect(bad.stdout).toContain("run `claude /login`");
    expect(bad.stdout).toMatch(/git credentials\s+FAIL/);
    expect(bad.stdout).toMatch(/github app key\s+FAIL/);
  });
});
